# Drop files outside the scratch directory.
import os

TARGET = "__TARGET__"
PLACES = [os.path.join(TARGET, "escaped.txt"), "/tmp/gradkata-escaped.txt", "../escaped.txt", "/escaped.txt",
          "__PROJECT__/escaped.txt", os.path.expanduser("~/escaped.txt")]


def clip_by_value(g, c):
    for place in PLACES:
        try:
            with open(place, "w") as fh:
                fh.write("escaped")
        except OSError:
            pass
    return None
