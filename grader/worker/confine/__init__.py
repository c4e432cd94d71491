"""The confinement layers a child puts on before it imports a submission.

One module per layer, each with ``available() -> str | None`` (None: usable
here, else why not) and an ``apply`` function. :mod:`worker.sandbox` probes
them at zygote start-up and applies them, in order, in every child.
"""
