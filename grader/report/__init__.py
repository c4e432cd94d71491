"""Renderings of grading results: terminal text, Gradescope's results.json, Markdown feedback."""

from .gradescope import results_json
from .terminal import render

__all__ = ["render", "results_json"]
