"""The benchmark's sizes: GEMM FLOPs counted by hand, and bidirectional stacks built alike in both workers."""

import pytest

from bptt.bench.configs import CONFIGS, TARGETS, Config, gemm_flops


def test_a_bidirectional_stack_counts_every_gemm_of_both_directions():
    cfg = CONFIGS["medium-bi"]
    assert (cfg.B, cfg.T, cfg.I, cfg.H, cfg.L, cfg.D) == (32, 64, 64, 256, 2, 2)
    TB = 32 * 64
    for cell, G in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        GH = G * 256
        # per layer and direction: 3 GEMMs with the input (projection, dW_ih, dX) and 3 with the state
        # (step, back-step, dW_hh), each 2·TB·GH·(size); layer 2 reads both directions: 512 inputs
        want = 2 * sum(6 * TB * GH * (I + 256) for I in (64, 512))
        assert gemm_flops(cfg, cell) == want
        assert TARGETS[("medium-bi", cell)] == 1.3
    uni = Config("u", 32, 64, 64, 256, 2)
    assert gemm_flops(uni, "rnn") == sum(6 * TB * 256 * (I + 256) for I in (64, 256))
    assert CONFIGS["medium-bi"].as_dict()["bidirectional"] is True and uni.as_dict()["bidirectional"] is False


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_both_workers_build_the_same_bidirectional_stack(cell):
    pytest.importorskip("torch", reason="the torch worker is the reference for the bidirectional stack")
    from bptt.bench.worker import BpttBench, TorchBench

    cfg = Config("t-bi", 3, 4, 5, 6, 2, bidirectional=True)
    ours, theirs = BpttBench(cell, "float64", cfg, 0).check(), TorchBench(cell, "float64", cfg, 0).check()
    for k in ("loss", "dx", "dW_hh_l0"):
        assert ours[k] == pytest.approx(theirs[k], rel=1e-10, abs=1e-12), k
