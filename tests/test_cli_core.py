"""`bptt seeds` and `bptt check` run end to end and report real comparisons."""

import pytest

from bptt.cli import main

pytest.importorskip("torch", reason="seeds/check compare with torch")


def test_seeds_command_reports_matches(capsys):
    assert main(["seeds"]) == 0
    out = capsys.readouterr().out
    assert "4.11438465" in out and "NO" not in out


@pytest.mark.parametrize("argv", [
    ["check"],
    ["check", "--layers", "2", "--bidirectional", "--lengths", "5,2", "--batch-first"],
    ["check", "--nonlinearity", "sigmoid"],
    ["check", "--cell", "mlp", "--nonlinearity", "relu"],
    ["check", "--cell", "lstm", "--layers", "2", "--bidirectional", "--lengths", "5,1"],
    ["check", "--cell", "gru", "--layers", "3", "--no-bias", "--steps", "2"],
])
def test_check_command_passes(argv, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "all gradients agree" in out and "weight" in out
    if "mlp" not in argv:  # recurrent: which backend ran, and every other one against the reference
        assert "backend that ran: " in out and "numpy" in out


def test_check_reports_bad_arguments(capsys):
    assert main(["check", "--hidden-size", "0"]) == 2
    assert "bptt check: error: --hidden-size: expected an int >= 1, got 0\n" == capsys.readouterr().err


@pytest.mark.parametrize("name", ["003", "004"])
def test_every_seed_is_a_choice_of_the_command(name, capsys):
    # The course has five seed texts (000-004); each one is reachable from the command line.
    assert main(["seeds", "--seed", name]) == 0
    out = capsys.readouterr().out
    assert f"seed {name}:" in out and "NO" not in out
