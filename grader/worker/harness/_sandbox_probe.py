"""Not a kata: lets tests/sandbox/test_sandbox.py call a probe function in a confined child."""

from __future__ import annotations


def run(funcs: dict, scenario: dict) -> dict:
    result = funcs["f"](str(scenario["what"]))
    return {"result": result if isinstance(result, (int, str)) else repr(result)}
