# Steal the reference: open it, import it, or read the hidden suite.
import sys

PROJECT = "__PROJECT__"
stolen = None
try:
    sys.path.insert(0, PROJECT)
    from gradkata.katas.clip_by_value.reference import clip_by_value as stolen  # noqa: F811
except Exception:
    pass
for where in ("/solutions/clip_by_value.py", "/grader/katas/clip_by_value/reference.py"):
    try:
        source = open(PROJECT + where).read()
        namespace = {}
        exec(source, namespace)
        stolen = namespace["clip_by_value"]
    except Exception:
        pass


def clip_by_value(g, c):
    if stolen is not None:
        return stolen(g, c)
    for path in (PROJECT + "/grader/katas/clip_by_value/suite.py", "../000001/clip_by_norm.py", "/etc/passwd"):
        try:
            open(path).read()
        except OSError:
            continue
        return g * 0 + 12345.0  # the read worked: show it by a conspicuous wrong answer
    raise RuntimeError("could not steal the reference")
