"""The untrusted side: everything that runs in the worker process.

This package is imported by the worker as a top-level package (``worker``),
with the rest of the project out of sight. It must never import ``grader``,
``solutions`` or anything holding hidden tests, references or mutants: a forked
child inherits every module its parent has loaded.
"""
