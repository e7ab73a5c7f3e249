"""bptt.torch_random draws what torch's CPU generator draws, bit for bit (and needs no torch)."""

import math

import numpy as np
import pytest

from bptt.torch_random import Generator, manual_seed


def test_mersenne_twister_reference_outputs():
    # mt19937 with init_genrand(5489): the first output is 3499211612 and the 10000th is 4123659995
    # (the values the C++ standard requires of std::mt19937).
    raw = Generator(5489)._raw32(10000)
    assert int(raw[0]) == 3499211612 and int(raw[-1]) == 4123659995


def test_rand_float32_is_24_bits_of_one_draw():
    # (r & 0xFFFFFF) / 2**24 by hand from the first raw output of seed 5489
    assert Generator(5489).rand(1)[0] == np.float32((3499211612 & 0xFFFFFF) / 2**24)


def test_bad_arguments():
    with pytest.raises(TypeError, match="seed"):
        Generator(1.5)
    with pytest.raises(TypeError, match="dtype"):
        Generator(0).rand(2, dtype=np.int32)
    with pytest.raises(ValueError, match="high - low"):
        Generator(0).randint(3, 3, (2,))


try:
    import torch
except ImportError:  # the tests above still run; the ones below compare with torch itself
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="the comparison with torch's own draws needs torch")
TDT = {} if torch is None else {np.float32: torch.float32, np.float64: torch.float64}


@needs_torch
@pytest.mark.parametrize("seed", [0, 1, 7, 123456789, 2**32 - 1, 2**40 + 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rand_matches_torch(seed, dtype):
    torch.manual_seed(seed)
    want = [torch.rand(3, 4, dtype=TDT[dtype]).numpy(), torch.rand(17, dtype=TDT[dtype]).numpy()]
    gen = manual_seed(seed)
    got = [gen.rand(3, 4, dtype=dtype), gen.rand(17, dtype=dtype)]
    for w, g in zip(want, got):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@needs_torch
@pytest.mark.parametrize("low,high", [(-0.1, 0.1), (0.5, 3.0), (-1000.0, 0.001), (1e6, 1e6 + 3.7),
                                      (0.3, 0.30001), (-1 / math.sqrt(7), 1 / math.sqrt(7))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_matches_torch(low, high, dtype):
    # 4000 values cover the fused multiply-add rounding and the "rounded up to high -> low" rule
    n = 20000 if dtype == np.float32 else 2000
    torch.manual_seed(3)
    want = torch.empty(n, dtype=TDT[dtype]).uniform_(low, high).numpy()
    np.testing.assert_array_equal(manual_seed(3).uniform(n, low, high, dtype), want)


@needs_torch
def test_randint_matches_torch():
    torch.manual_seed(11)
    want = [torch.randint(0, 4, (3,)).numpy(), torch.randint(-5, 1000, (2, 6)).numpy()]
    gen = manual_seed(11)
    for w, g in zip(want, [gen.randint(0, 4, (3,)), gen.randint(-5, 1000, (2, 6))]):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@needs_torch
@pytest.mark.parametrize("cls,gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
@pytest.mark.parametrize("kw", [dict(num_layers=1), dict(num_layers=2), dict(num_layers=2, bidirectional=True, bias=False)])
def test_recurrent_module_init_matches_torch(cls, gates, kw):
    torch.manual_seed(5)
    want = getattr(torch.nn, cls)(3, 6, **kw).state_dict()
    got = manual_seed(5).rnn_parameters(3, 6, gates=gates, **kw)
    assert list(got) == list(want)
    for k, v in want.items():
        np.testing.assert_array_equal(got[k], v.numpy(), err_msg=k)


@needs_torch
def test_linear_init_matches_torch_and_the_stream_continues():
    torch.manual_seed(2)
    lin, after = torch.nn.Linear(7, 3).state_dict(), torch.rand(4).numpy()
    gen = manual_seed(2)
    got = gen.linear_parameters(7, 3)
    for k, v in lin.items():
        np.testing.assert_array_equal(got[k], v.numpy(), err_msg=k)
    np.testing.assert_array_equal(gen.rand(4), after)
