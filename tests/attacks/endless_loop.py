def clip_by_value(g, c):
    while True:
        pass
