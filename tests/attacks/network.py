# Call home over loopback, at import and during calls.
import socket


def call_home():
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect((host, __PORT__))
                s.sendall(b"leak")
        except OSError:
            pass


call_home()


def clip_by_value(g, c):
    call_home()
    return None
