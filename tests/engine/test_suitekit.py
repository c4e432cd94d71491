"""The suites' comparison helpers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradkata.suitekit import _agreement, tolerance

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.sampled_from([0.0, 1.0, 1.0 + 1e-6, 1.0 + 1e-4, 1e-300, np.inf, -np.inf, np.nan]))


@st.composite
def pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5))
    return (draw(hnp.arrays(np.float64, shape, elements=values)),
            draw(hnp.arrays(np.float64, shape, elements=values)))


@settings(max_examples=300, deadline=None)
@given(pair=pairs(), dtype=st.sampled_from(["float16", "bfloat16", "float32", "float64"]))
def test_agreement_is_isclose_with_a_scaled_atol(pair, dtype) -> None:
    got, want = pair
    rtol, ascale = tolerance(dtype)
    finite = np.abs(want[np.isfinite(want)])
    atol = ascale * (float(finite.max()) if finite.size else 0.0) + 1e-300
    with np.errstate(invalid="ignore", over="ignore"):
        expected = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    np.testing.assert_array_equal(_agreement(got, want, dtype), expected)
