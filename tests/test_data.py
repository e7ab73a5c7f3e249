"""Task generators, corpora and batching: shapes, dtypes, determinism, and what makes each task itself."""

import numpy as np
import pytest

from bptt.data import (
    IGNORE_INDEX, REBER_SYMBOLS, TASKS, CharVocab, Dataset, adding_problem, copy_memory, english_corpus, is_reber,
    iterate_minibatches, load_corpus, load_text, make_blobs, make_moons, make_spirals, make_task, make_xor,
    pad_sequences, parity, reber, reber_strings, sine_wave, spanish_corpus, split_ids, stream_batches,
)

CLASSIFIERS = [make_blobs, make_xor, make_moons, make_spirals]


@pytest.mark.parametrize("maker", CLASSIFIERS, ids=lambda f: f.__name__)
def test_2d_sets_shapes_dtypes_balance_determinism(maker):
    d = maker(101, seed=3)
    assert d.x.shape == (101, 2) and d.x.dtype == np.float32
    assert d.y.shape == (101,) and d.y.dtype == np.int64 and set(np.unique(d.y)) == {0, 1}
    assert abs(int((d.y == 0).sum()) - int((d.y == 1).sum())) <= 1
    again = maker(101, seed=3)
    np.testing.assert_array_equal(d.x, again.x)
    assert not np.array_equal(d.x, maker(101, seed=4).x)
    assert maker(10, seed=0, dtype=np.float64).x.dtype == np.float64


@pytest.mark.parametrize("noise", [0.0, 0.5, 3.0])
def test_blobs_are_linearly_separable_at_any_noise(noise):
    d = make_blobs(400, noise=noise, seed=1, margin=0.1)
    s = (2 * d.y - 1) * (d.x.astype(np.float64) @ np.array([1.0, 1.0]) / np.sqrt(2))
    assert s.min() >= 0.1 - 1e-6


def test_xor_labels_without_noise():
    d = make_xor(500, noise=0.0, seed=2)
    np.testing.assert_array_equal(d.y, ((d.x[:, 0] > 0) ^ (d.x[:, 1] > 0)).astype(int))
    # and not linearly separable: the best single threshold on any axis is near chance
    for axis in (0, 1):
        acc = max(np.mean((d.x[:, axis] > 0) == d.y), np.mean((d.x[:, axis] <= 0) == d.y))
        assert acc < 0.65


def test_moons_lie_on_their_half_circles_without_noise():
    d = make_moons(300, noise=0.0, seed=0).x.astype(np.float64), make_moons(300, noise=0.0, seed=0).y
    x, y = d
    np.testing.assert_allclose(np.hypot(x[y == 0, 0], x[y == 0, 1]), 1.0, atol=1e-6)
    assert np.all(x[y == 0, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(x[y == 1, 1] <= 0.5 + 1e-6)


def test_spiral_arms_are_half_a_turn_apart():
    d = make_spirals(400, noise=0.0, seed=0, turns=2.0, dtype=np.float64)
    r = np.hypot(d.x[:, 0], d.x[:, 1])
    expect = 2 * np.pi * 2.0 * r + np.pi * d.y
    diff = np.angle(np.exp(1j * (np.arctan2(d.x[:, 1], d.x[:, 0]) - expect)))
    np.testing.assert_allclose(diff, 0.0, atol=1e-9)


def test_sine_targets_are_the_clean_signal_shifted():
    d = sine_wave(8, length=30, noise=0.0, seed=1, horizon=3, dtype=np.float64)
    assert d.x.shape == (8, 30, 1) and d.y.shape == (8, 30, 1) and d.per_step and d.kind == "regression"
    np.testing.assert_allclose(d.y[:, :-3], d.x[:, 3:], atol=1e-12)
    noisy = sine_wave(8, length=30, noise=0.2, seed=1, horizon=3, dtype=np.float64)
    np.testing.assert_allclose(noisy.y, d.y)  # same signal, only the observations are noisy
    resid = noisy.x - noisy.extras["clean"]
    assert 0.1 < resid.std() < 0.3


def test_adding_problem_target_is_the_sum_of_the_two_marked_values():
    d = adding_problem(64, length=40, seed=5, dtype=np.float64)
    assert d.x.shape == (64, 40, 2) and d.y.shape == (64, 1)
    marks = d.x[:, :, 1]
    np.testing.assert_array_equal(marks.sum(1), 2.0)
    assert np.all(marks[:, :20].sum(1) == 1) and np.all(marks[:, 20:].sum(1) == 1)
    np.testing.assert_allclose(d.y[:, 0], (d.x[:, :, 0] * marks).sum(1), rtol=1e-15)
    assert np.all((d.x[:, :, 0] >= 0) & (d.x[:, :, 0] < 1))


def test_copy_memory_target_repeats_the_symbols_after_the_delay():
    d = copy_memory(16, delay=25, seed=2, n_symbols=8, copy_length=10)
    T = 25 + 20
    assert d.x.shape == (16, T, 10) and d.y.shape == (16, T) and d.y.dtype == np.int64
    tokens = d.x.argmax(-1)
    np.testing.assert_array_equal(d.x.sum(-1), 1.0)  # one-hot
    np.testing.assert_array_equal(d.y[:, -10:], tokens[:, :10])
    assert np.all(d.y[:, :-10] == 0)
    assert np.all((tokens[:, :10] >= 1) & (tokens[:, :10] <= 8))
    assert np.all(tokens[:, 10 + 25 - 1] == 9) and np.all(np.delete(tokens, np.s_[:10], axis=1)[:, np.r_[:24, 25:35]] == 0)


@pytest.mark.parametrize("embedded", [True, False])
def test_reber_strings_are_grammatical_and_long_enough(embedded):
    strings = reber_strings(200, min_length=18, seed=4, embedded=embedded)
    assert all(is_reber(s, embedded) for s in strings)
    assert all(len(s) >= 18 for s in strings)
    if embedded:
        assert all(s[1] == s[-2] for s in strings)
        assert {s[1] for s in strings} == {"T", "P"}
    assert not is_reber("BTXXE") and not is_reber("BPVVE", embedded=True)
    assert is_reber("BTXSE") and is_reber("BPTVPSE")


def test_reber_dataset_padding_targets_and_valid_next():
    d = reber(50, min_length=0, seed=0)
    assert d.x.shape[0] == 50 and d.x.shape[2] == 7 and d.lengths.shape == (50,)
    for i in range(50):
        L = d.lengths[i]
        ids = np.concatenate([d.x[i, :L].argmax(-1), d.y[i, L - 1:L]])
        s = "".join(REBER_SYMBOLS[j] for j in ids)
        assert is_reber(s, embedded=True)
        assert np.all(d.y[i, L:] == IGNORE_INDEX) and np.all(d.x[i, L:] == 0)
        assert np.all(d.extras["valid_next"][i, np.arange(L), d.y[i, :L]] == 1)  # the true next is always valid
        assert d.extras["valid_next"][i, L - 2].sum() == 1  # the long-range step has one answer


@pytest.mark.parametrize("variable", [False, True])
def test_parity_target_is_the_xor_of_the_bits(variable):
    d = parity(128, length=12, seed=9, variable_length=variable)
    assert d.x.shape == (128, 12, 1) and d.y.dtype == np.int64
    np.testing.assert_array_equal(d.y, d.x[:, :, 0].sum(1).astype(int) % 2)
    if variable:
        assert d.lengths.min() >= 1 and d.lengths.max() <= 12 and len(np.unique(d.lengths)) > 5
        assert all(np.all(d.x[i, d.lengths[i]:] == 0) for i in range(128))


@pytest.mark.parametrize("name", list(TASKS))
def test_make_task_is_deterministic_by_seed(name):
    a, b, c = make_task(name, 32, seed=1), make_task(name, 32, seed=1), make_task(name, 32, seed=2)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not (np.array_equal(a.x, c.x) and np.array_equal(a.y, c.y))
    assert a.x.dtype == np.float32


def test_difficulty_knob_sets_the_length():
    assert make_task("adding", 4, difficulty=77).x.shape[1] == 77
    assert make_task("copy", 4, difficulty=30).x.shape[1] == 50
    assert make_task("parity", 4, difficulty=33).x.shape[1] == 33
    assert make_task("reber", 20, difficulty=25).lengths.min() >= 24


def test_minibatches_cover_each_sample_once_and_shuffle_by_seed():
    d = make_xor(23, seed=0)
    for bs in (1, 5, 23):
        batches = list(iterate_minibatches(d, bs, seed=7, epoch=2))
        idx = np.concatenate([b.index for b in batches])
        assert sorted(idx) == list(range(23)) and len(batches) == -(-23 // bs)
        for b in batches:
            np.testing.assert_array_equal(b.x, d.x[b.index])
    o1 = np.concatenate([b.index for b in iterate_minibatches(d, 4, seed=7, epoch=2)])
    o2 = np.concatenate([b.index for b in iterate_minibatches(d, 4, seed=7, epoch=2)])
    o3 = np.concatenate([b.index for b in iterate_minibatches(d, 4, seed=7, epoch=3)])
    np.testing.assert_array_equal(o1, o2)
    assert not np.array_equal(o1, o3)
    np.testing.assert_array_equal(np.concatenate([b.index for b in iterate_minibatches(d, 4, shuffle=False)]), np.arange(23))
    rest = list(iterate_minibatches(d, 4, seed=7, epoch=2, start=2))
    np.testing.assert_array_equal(np.concatenate([b.index for b in rest]), o1[8:])


def test_variable_length_batches_are_trimmed_to_their_longest():
    d = reber(40, seed=1)
    for b in iterate_minibatches(d, 8, seed=0):
        assert b.x.shape[1] == b.lengths.max() == b.y.shape[1] == b.extras["valid_next"].shape[1]


def test_pad_sequences():
    padded, lengths = pad_sequences([np.ones((3, 2)), np.ones((1, 2)) * 2], pad_value=-1.0)
    assert padded.shape == (2, 3, 2) and list(lengths) == [3, 1]
    assert np.all(padded[1, 1:] == -1) and np.all(padded[1, 0] == 2)
    with pytest.raises(ValueError, match=r"seqs\[1\]"):
        pad_sequences([np.ones((3, 2)), np.ones((2, 3))])


def test_dataset_split_and_errors():
    d = make_moons(50, seed=0)
    tr, va = d.split(0.2, seed=0)
    assert len(tr) == 40 and len(va) == 10
    assert sorted(np.concatenate([tr.x[:, 0], va.x[:, 0]]).tolist()) == sorted(d.x[:, 0].tolist())
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_minibatches(d, 51))
    with pytest.raises(TypeError, match="batch_size"):
        next(iterate_minibatches(d, 2.5))
    with pytest.raises(ValueError, match="val_fraction"):
        d.split(1.5)
    with pytest.raises(TypeError, match="y"):
        Dataset(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="name"):
        make_task("maze")
    with pytest.raises(ValueError, match="noise"):
        make_xor(10, noise=-1)


# -- text -------------------------------------------------------------------------------------
def test_vocab_round_trip_and_unknown_characters():
    v = CharVocab.from_text("hola, mundo ñ")
    assert len(v) == len(set("hola, mundo ñ"))
    ids = v.encode("mundo")
    assert ids.dtype == np.int64 and v.decode(ids) == "mundo"
    assert CharVocab.from_array(v.to_array()).chars == v.chars
    with pytest.raises(ValueError, match="'xz'"):
        v.encode("xaz")
    with pytest.raises(ValueError, match="ids"):
        v.decode([len(v)])


def test_english_corpus_is_stdlib_prose():
    text = english_corpus(50_000)
    assert 40_000 <= len(text) <= 50_000
    words = text.split()
    assert sum(w.lower() in {"the", "a", "of", "to", "is"} for w in words) > 0.05 * len(words)
    assert ">>>" not in text
    assert english_corpus(50_000) == text


def test_english_corpus_drops_code_like_lines():
    from bptt.data.text import _prose

    doc = "Return the value.\n\nDecimal('NaN')\n{'a': [1, 2]}\n  x = f(1, 2)  \nThe end of it, (mostly) words."
    assert _prose(doc) == "Return the value.\n\nThe end of it, (mostly) words."
    text = english_corpus(200_000)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    assert len(lines) > 2000
    # every kept line is at least 3/4 letters and spaces (before the cut, 498 lines of the first 200 000 characters were not)
    assert all(sum(c.isalpha() or c == " " for c in ln) >= 0.75 * len(ln) for ln in lines)


def test_spanish_corpus_is_spanish_and_ours():
    text = spanish_corpus()
    assert len(text) > 10_000 and "retropropagación" in text and "ñ" in text
    assert load_corpus("es")[0] == text


def test_corpus_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_text(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(ValueError, match="empty"):
        load_text(tmp_path / "empty.txt")
    (tmp_path / "latin1.txt").write_bytes("canción".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_text(tmp_path / "latin1.txt")
    with pytest.raises(ValueError, match="directory"):
        load_text(tmp_path)
    (tmp_path / "ok.txt").write_text("línea uno\r\nlínea dos\n", encoding="utf-8")
    assert load_corpus(tmp_path / "ok.txt")[0] == "línea uno\nlínea dos\n"


def test_stream_batches_are_contiguous_streams_with_next_char_targets():
    ids = np.arange(103)
    chunks = list(stream_batches(ids, batch_size=4, seq_len=7))
    n = 102 // 4
    assert len(chunks) == -(-n // 7) and chunks[0][0].shape == (7, 4) and chunks[-1][0].shape == (n - 7 * (len(chunks) - 1), 4)
    x = np.concatenate([c[0] for c in chunks]).T
    y = np.concatenate([c[1] for c in chunks]).T
    np.testing.assert_array_equal(x, ids[: 4 * n].reshape(4, n))
    np.testing.assert_array_equal(y, x + 1)
    tr, va = split_ids(ids, 0.1)
    assert len(va) == 10 and tr[-1] + 1 == va[0]
    with pytest.raises(ValueError, match="batch_size"):
        next(stream_batches(np.arange(3), batch_size=4, seq_len=2))


def test_make_task_refuses_knobs_a_task_does_not_have():
    from bptt.data.sequences import make_task

    with pytest.raises(ValueError, match="noise: task 'adding' has no noise level"):
        make_task("adding", 8, noise=0.3)
    with pytest.raises(ValueError, match="difficulty: task 'xor' has no difficulty knob"):
        make_task("xor", 8, difficulty=3)
    assert make_task("sine", 8, noise=0.3).x.shape[0] == 8
