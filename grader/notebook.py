"""Code cells of a submitted notebook, as one Python source.

IPython magics (``%...``, ``%%...``) and shell escapes (``!...``) are not
Python: they are dropped, with a comment left in their place.
"""

from __future__ import annotations

import json

import nbformat

from ._errors import SubmissionError


def _clean(cell_source: str) -> str:
    lines = []
    for line in cell_source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(f"# gradkata dropped an IPython line: {stripped[:60]}")
        else:
            lines.append(line)
    if cell_source.lstrip().startswith("%%"):
        return "# gradkata dropped a cell magic\n"
    return "\n".join(lines)


def extract_code(data: bytes, origin: str = "notebook") -> bytes:
    """Concatenate the code cells of a notebook; raise SubmissionError if it is not one."""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError, ValueError, KeyError) as exc:
        raise SubmissionError(f"{origin} is not a readable notebook: {str(exc)[:200]}") from None
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    parts = [f"# --- cell {i} ---\n{_clean(c.get('source', ''))}" for i, c in enumerate(cells, 1)]
    return ("\n\n".join(parts) + "\n").encode("utf-8")
