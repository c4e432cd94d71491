"""Packaging glue pyproject.toml cannot say: the folder `grader/` is the import package `gradkata`.

The repository keeps the design card's top-level folders; the wheel installs one
import name, `gradkata`, and nothing else (tests/test_packaging.py builds it).
"""

from setuptools import find_packages, setup

setup(
    package_dir={"gradkata": "grader"},
    packages=["gradkata", *(f"gradkata.{name}" for name in find_packages("grader"))],
)
