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


# --- the shared strategies draw what strategies built at each draw would ----------------------

@st.composite
def _param_sets_built_per_draw(draw, containers, allow_empty=True):
    """``suitekit.param_sets`` as it was written before its strategies were shared."""
    from gradkata.suitekit import SCALES

    dtype = draw(st.sampled_from(("float32", "float64")))
    scale = draw(st.sampled_from(SCALES))
    container = draw(st.sampled_from(containers))
    low = 1 if (container == "single" or not allow_empty) else 0
    n = 1 if container == "single" else draw(st.integers(low, 4))
    params = []
    for _ in range(n):
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
        elements = st.floats(-10, 10, width=32, allow_subnormal=False)
        value = draw(hnp.arrays(dtype, shape, elements=elements))
        grad = draw(hnp.arrays(dtype, shape, elements=elements)) * np.asarray(scale, dtype=dtype)
        has_grad = container == "single" or draw(st.integers(0, 4)) > 0
        params.append({"value": value, "grad": grad if has_grad else None})
    return {"params": params, "order": list(range(n)), "container": container}


@st.composite
def _numpy_vectors_built_per_draw(draw, max_dims=2):
    from gradkata.suitekit import SCALES

    dtype = draw(st.sampled_from(("float32", "float64")))
    scale = draw(st.sampled_from(SCALES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=8))
    g = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10, width=32, allow_subnormal=False)))
    return (np.where(np.abs(g) < 1e-4, 0.0, g) * scale).astype(dtype)


def _examples(strategy, seed: int) -> list[str]:
    from hypothesis import HealthCheck, Phase, seed as hypothesis_seed

    from gradkata.hypothesis_pin import pin_generation

    pin_generation()
    seen: list[str] = []

    @hypothesis_seed(seed)
    @settings(max_examples=30, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(example=strategy, ratio=st.sampled_from([0.5, 2.0]))
    def record(example, ratio):
        seen.append(repr((example, ratio)))

    record()
    return seen


def test_shared_strategies_draw_the_same_examples_under_every_seed():
    # The suites' strategies are built once and shared between draws (drawing is a third
    # cheaper); the examples a seed gives, hence every score, must not change with that.
    from gradkata.suitekit import numpy_vectors, param_sets

    for seed in (1, 7, 2**40 + 3):
        for containers, allow_empty in ((("list", "tuple", "generator"), True),
                                        (("list", "tuple", "generator"), False),
                                        (("list", "tuple", "generator", "single"), True)):
            assert _examples(param_sets(containers=containers, allow_empty=allow_empty), seed) == \
                _examples(_param_sets_built_per_draw(containers, allow_empty), seed)
        for max_dims in (1, 2):
            assert _examples(numpy_vectors(max_dims=max_dims), seed) == \
                _examples(_numpy_vectors_built_per_draw(max_dims), seed)
