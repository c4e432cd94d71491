"""The exploding-gradient demonstration: the numbers the notebooks plot."""

from __future__ import annotations

import numpy as np
import pytest

from gradkata.demos import bptt_gradient_norms


@pytest.mark.parametrize("w", [0.9, 1.0, 1.1])
def test_linear_rnn_gradient_norm_is_a_power_of_the_weight_norm(w):
    norms = bptt_gradient_norms(w, 30)
    assert norms.shape == (31,)
    np.testing.assert_allclose(norms, w ** np.arange(31), rtol=1e-9)


def test_above_one_explodes_and_below_one_vanishes():
    assert bptt_gradient_norms(1.5, 40)[-1] > 1e6
    assert bptt_gradient_norms(0.5, 40)[-1] < 1e-11


def test_tanh_never_grows_faster_than_the_linear_bound():
    tanh = bptt_gradient_norms(1.5, 20, nonlinearity="tanh", seed=1)
    assert np.all(tanh <= 1.5 ** np.arange(21) * (1 + 1e-9))
    # Saturated units pass less gradient back, so the product grows far slower.
    assert tanh[-1] < 0.1 * 1.5**20


def test_bad_arguments_say_what_to_pass():
    with pytest.raises(ValueError, match="nonlinearity"):
        bptt_gradient_norms(1.0, 3, nonlinearity="relu")
    with pytest.raises(ValueError, match="steps"):
        bptt_gradient_norms(1.0, -1)
