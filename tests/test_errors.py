"""Bad input gets one clear error that names the argument and says expected vs got."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bptt


@pytest.fixture
def rnn():
    return bptt.RNN(3, 4, num_layers=2, dtype=np.float64, seed=0)


def test_wrong_rank(rnn):
    with pytest.raises(ValueError, match=r"input: expected a 2-D or 3-D array, got 4-D with shape \(1, 2, 3, 3\)"):
        rnn(np.zeros((1, 2, 3, 3)))


def test_wrong_feature_size(rnn):
    with pytest.raises(ValueError, match=r"input: expected last dimension input_size=3, got shape \(5, 2, 7\)"):
        rnn(np.zeros((5, 2, 7)))


def test_h0_of_wrong_shape(rnn):
    with pytest.raises(ValueError, match=r"h0: expected shape \(2, 2, 4\), got \(1, 2, 4\)"):
        rnn(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))


def test_h0_batch_first_never_applies(rng):
    m = bptt.RNN(3, 4, batch_first=True, dtype=np.float64)
    x = rng.standard_normal((2, 5, 3))  # (B, T, I)
    m(x, np.zeros((1, 2, 4)))  # h0 stays (L·D, B, H)
    with pytest.raises(ValueError, match="h0: expected shape"):
        m(x, np.zeros((2, 1, 4)))


def test_unbatched_input_needs_unbatched_h0(rnn):
    with pytest.raises(ValueError, match=r"h0: expected shape \(2, 4\)"):
        rnn(np.zeros((5, 3)), np.zeros((2, 1, 4)))


def test_nan_in_input(rnn):
    x = np.zeros((5, 2, 3))
    x[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match="input: contains 1 NaN/Inf"):
        rnn(x)


def test_inf_in_h0(rnn):
    h0 = np.zeros((2, 2, 4))
    h0[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="h0: contains 1 NaN/Inf"):
        rnn(np.zeros((5, 2, 3)), h0)


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match=r"nonlinearity: expected one of \('tanh', 'relu', 'sigmoid'\), got 'softsign'"):
        bptt.RNN(3, 4, nonlinearity="softsign")


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="RNN.backward: called before forward"):
        bptt.RNN(3, 4).backward(np.zeros((1, 1, 4), dtype=np.float32))
    with pytest.raises(RuntimeError, match="Linear.backward: called before forward"):
        bptt.Linear(3, 4).backward(np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(RuntimeError, match="CrossEntropyLoss.backward: called before forward"):
        bptt.CrossEntropyLoss().backward()


def test_dout_of_wrong_shape(rnn, rng):
    rnn(rng.standard_normal((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dout: expected shape \(5, 2, 4\), got \(5, 2, 8\)"):
        rnn.backward(np.zeros((5, 2, 8)))
    with pytest.raises(ValueError, match=r"dh_n: expected shape \(2, 2, 4\)"):
        rnn.backward(np.zeros((5, 2, 4)), np.zeros((2, 4)))


def test_dtype_mismatch_is_not_silently_cast(rnn):
    with pytest.raises(TypeError, match="input: expected dtype float64, got float32"):
        rnn(np.zeros((5, 2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="input: expected dtype float64, got int64"):
        rnn(np.zeros((5, 2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="input: expected a numpy.ndarray, got list"):
        rnn([[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("kwargs,match", [
    ({"hidden_size": 0}, "hidden_size: expected an int >= 1, got 0"),
    ({"num_layers": 1.5}, "num_layers: expected an int >= 1, got float"),
    ({"dropout": 1.5}, r"dropout: expected a float in \[0, 1\], got 1.5"),
    ({"dtype": np.int32}, "dtype: expected float32 or float64, got int32"),
])
def test_impossible_hyper_parameters(kwargs, match):
    args = dict(input_size=3, hidden_size=4)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        bptt.RNN(**args)


@pytest.mark.parametrize("lengths,match", [
    ([3], r"lengths: expected 2 integers \(one per sequence\), got shape \(1,\)"),
    ([0, 3], r"lengths: expected values in \[1, 5\] \(T = 5\), got min 0 max 3"),
    ([6, 3], r"lengths: expected values in \[1, 5\]"),
    ([2.0, 3.0], "lengths: expected 2 integers"),
])
def test_bad_lengths(rnn, lengths, match):
    with pytest.raises(ValueError, match=match):
        rnn(np.zeros((5, 2, 3)), lengths=lengths)


def test_rnn_given_a_state_tuple(rnn):
    with pytest.raises(TypeError, match="hx: RNN expects one array"):
        rnn(np.zeros((5, 2, 3)), (np.zeros((2, 2, 4)), np.zeros((2, 2, 4))))


def test_linear_input_errors():
    m = bptt.Linear(3, 2)
    with pytest.raises(ValueError, match=r"input: expected shape \(\*, 3\), got \(4, 2\)"):
        m(np.zeros((4, 2), dtype=np.float32))


def test_loss_errors():
    ce = bptt.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"target: class indices must be in \[0, 3\), got 3..3"):
        ce(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"target: class indices must be in \[0, 3\), got -1..-1"):
        ce(np.zeros((2, 3)), np.array([0, -1]))
    with pytest.raises(TypeError, match="target: expected integer class indices"):
        ce(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target: expected shape \(2,\)"):
        ce(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"reduction: expected one of \('mean', 'sum', 'none'\), got 'avg'"):
        bptt.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"target: expected shape \(2, 2\) \(same as input\), got \(2,\)"):
        bptt.MSELoss()(np.zeros((2, 2)), np.zeros(2))


def test_mlp_bad_sizes():
    with pytest.raises(ValueError, match=r"sizes: expected at least \[in, out\], got \[3\]"):
        bptt.MLP([3])
    with pytest.raises(ValueError, match="activation: expected one of"):
        bptt.MLP([3, 2], activation="swish")
    with pytest.raises(ValueError, match=r"sizes\[1\]: expected an int >= 1, got 0"):
        bptt.MLP([3, 0, 2])


def test_sequential_dtype_mismatch():
    with pytest.raises(TypeError, match=r"modules\[1\]: expected dtype float32 like modules\[0\], got float64"):
        bptt.Sequential(bptt.Linear(2, 2), bptt.Linear(2, 2, dtype=np.float64))


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                              st.sampled_from([3.0e38, -3.0e38, 1.0e308])), min_size=0, max_size=12),
    dtype=st.sampled_from([np.float32, np.float64]),
    transpose=st.booleans(),
)
def test_finite_check_agrees_with_isfinite(values, dtype, transpose):
    """check_array's NaN/Inf test (Σ x² with an exact fallback) says what np.isfinite says, overflow included."""
    from bptt._checks import _all_finite

    with np.errstate(over="ignore"):
        x = np.array(values, dtype=np.float64).astype(dtype)
    x = np.concatenate([x, x]).reshape(2, -1).T if transpose else x  # a non-contiguous view
    assert _all_finite(x) == bool(np.isfinite(x).all())  # and no overflow warning (warnings are errors here)
