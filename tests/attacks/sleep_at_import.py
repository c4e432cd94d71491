import time

time.sleep(1000)


def clip_by_value(g, c):
    return g
