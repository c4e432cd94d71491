import sys

sys.setrecursionlimit(10**7)


def down(n):
    return down(n + 1) + 1


def clip_by_value(g, c):
    return down(0)
