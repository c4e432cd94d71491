"""`gradkata gradescope OUT.zip`: Gradescope's autograder bundle, and the script it runs per submission."""

from .bundle import BundleConfig, build_bundle
from .spec import validate

__all__ = ["BundleConfig", "build_bundle", "validate"]
