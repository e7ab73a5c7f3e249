"""The char-level language model: equal to torch's, learns, carries state, samples reproducibly."""

import numpy as np
import pytest

from bptt.data import CharVocab, load_corpus, split_ids
from bptt.nn import CrossEntropyLoss
from bptt.optim import Adam
from bptt.train import CharLMObjective, CharRNN, Embedding, Trainer, sample


@pytest.fixture(scope="module")
def spanish():
    text = load_corpus("es")[0][:8000]
    vocab = CharVocab.from_text(text)
    return text, vocab, vocab.encode(text)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("embedding_dim", [None, 5])
def test_charrnn_loss_and_gradients_equal_torch(cell, embedding_dim):
    torch = pytest.importorskip("torch", reason="torch autograd is the reference")
    V, H, T, B = 7, 6, 5, 3
    m = CharRNN(V, H, cell, embedding_dim=embedding_dim, dtype=np.float64, seed=4)
    rng = np.random.default_rng(0)
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    r = m._modules["rnn"]
    h0 = rng.standard_normal((1, B, H))
    c0 = rng.standard_normal((1, B, H))
    state = (h0, c0) if cell == "lstm" else h0

    tcls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    trnn = tcls(embedding_dim or V, H).double()
    thead = torch.nn.Linear(H, V).double()
    sd = dict(m.named_parameters())
    with torch.no_grad():
        for name, p in trnn.named_parameters():
            p.copy_(torch.from_numpy(sd["rnn." + name].data))
        thead.weight.copy_(torch.from_numpy(sd["head.weight"].data))
        thead.bias.copy_(torch.from_numpy(sd["head.bias"].data))
    if embedding_dim:
        temb = torch.nn.Embedding(V, embedding_dim).double()
        with torch.no_grad():
            temb.weight.copy_(torch.from_numpy(sd["embed.weight"].data))
        x = temb(torch.from_numpy(ids))
    else:
        x = torch.nn.functional.one_hot(torch.from_numpy(ids), V).double()
    th0 = torch.from_numpy(h0)
    tstate = (th0, torch.from_numpy(c0)) if cell == "lstm" else th0
    out, _ = trnn(x, tstate)
    tloss = torch.nn.functional.cross_entropy(thead(out).reshape(-1, V), torch.from_numpy(targets).reshape(-1))
    tloss.backward()

    logits, _ = m(ids, state)
    loss_fn = CrossEntropyLoss()
    loss = loss_fn(logits.reshape(-1, V), targets.reshape(-1))
    m.zero_grad()
    m.backward(loss_fn.backward().reshape(logits.shape))
    assert abs(float(loss) - tloss.item()) <= 1e-12 * abs(tloss.item())
    tgrads = {"rnn." + n: p.grad for n, p in trnn.named_parameters()}
    tgrads.update({"head.weight": thead.weight.grad, "head.bias": thead.bias.grad})
    if embedding_dim:
        tgrads["embed.weight"] = temb.weight.grad
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, tgrads[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_embedding_backward_sums_repeated_ids():
    e = Embedding(4, 3, dtype=np.float64, seed=0)
    ids = np.array([[1, 1], [3, 1]])
    y = e(ids)
    np.testing.assert_array_equal(y[0, 1], e.weight[1])
    dy = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    e.zero_grad()
    e.backward(dy)
    np.testing.assert_array_equal(e.grads["weight"][1], dy[0, 0] + dy[0, 1] + dy[1, 1])
    np.testing.assert_array_equal(e.grads["weight"][0], 0)
    with pytest.raises(ValueError, match="ids in"):
        e(np.array([4]))


def test_carried_state_makes_chunks_equal_one_long_forward():
    """Streaming evaluation with the state carried chunk to chunk equals one forward over the whole text."""
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 9, 301)
    m = CharRNN(9, 8, "lstm", dtype=np.float64, seed=0)
    obj = CharLMObjective(m, ids, batch_size=1, seq_len=13)
    streamed = obj.evaluate(ids, batch_size=1)["loss"]
    logits, _ = m(ids[:-1, None], None)
    full = float(CrossEntropyLoss()(logits.reshape(-1, 9), ids[1:]))
    assert streamed == pytest.approx(full, rel=1e-12)


def test_tiny_char_lm_lowers_validation_loss_by_a_real_margin(spanish):
    text, vocab, ids = spanish
    tr, va = split_ids(ids, 0.15)
    m = CharRNN(len(vocab), 48, "gru", embedding_dim=16, dtype=np.float32, seed=0)
    obj = CharLMObjective(m, tr, batch_size=16, seq_len=32)
    hist = Trainer(obj, Adam(m, lr=1e-2), clip_norm=5.0, val_data=va, progress=False).fit(10)
    first, last = hist.epochs[0]["val_loss"], hist.epochs[-1]["val_loss"]
    assert first > 3.5  # ≈ log(vocabulary size) before training
    assert last < 0.6 * first  # a real margin: ~4 nats -> < 2.4 nats per character
    assert hist.epochs[-1]["val_perplexity"] == pytest.approx(np.exp(last))
    assert len(hist.steps) == 10 * obj.num_batches()


def test_sampling_is_reproducible_and_seeded(spanish):
    _, vocab, _ = spanish
    m = CharRNN(len(vocab), 16, "lstm", seed=0)
    a = sample(m, vocab, 60, prime="La red", temperature=0.8, seed=3)
    b = sample(m, vocab, 60, prime="La red", temperature=0.8, seed=3)
    c = sample(m, vocab, 60, prime="La red", temperature=0.8, seed=4)
    assert a == b and a != c and len(a) == 60 and set(a) <= set(vocab.chars)
    assert m.training  # mode restored


def _greedy(m, vocab, prime, n):
    logits, state = m(vocab.encode(prime)[:, None], None)
    out = []
    for _ in range(n):
        c = int(np.argmax(logits[-1, 0]))
        out.append(c)
        logits, state = m(np.array([[c]]), state)
    return vocab.decode(out)


def test_temperature_to_zero_gives_the_argmax_path(spanish):
    _, vocab, ids = spanish
    m = CharRNN(len(vocab), 24, "gru", dtype=np.float64, seed=1)
    Trainer(CharLMObjective(m, ids[:3000], 8, 16), Adam(m, lr=1e-2), progress=False).fit(2)
    greedy = _greedy(m, vocab, "El gradiente", 80)
    assert sample(m, vocab, 80, prime="El gradiente", temperature=0.0, seed=0) == greedy
    assert sample(m, vocab, 80, prime="El gradiente", temperature=0.0, seed=99) == greedy
    assert sample(m, vocab, 80, prime="El gradiente", temperature=1e-4, seed=5) == greedy
    assert sample(m, vocab, 80, prime="El gradiente", temperature=1.5, seed=5) != greedy


def test_sampling_bad_arguments(spanish):
    _, vocab, _ = spanish
    m = CharRNN(len(vocab), 8, "rnn", seed=0)
    with pytest.raises(ValueError, match="prime"):
        sample(m, vocab, 5, prime="\u4e2d")
    with pytest.raises(ValueError, match="temperature"):
        sample(m, vocab, 5, temperature=-1.0)
    with pytest.raises(ValueError, match="n:"):
        sample(m, vocab, -3)
    with pytest.raises(ValueError, match="vocab"):
        sample(CharRNN(len(vocab) + 1, 8, "rnn"), vocab, 5)
    with pytest.raises(ValueError, match="cell"):
        CharRNN(10, 8, "transformer")


def test_cli_train_charlm_then_sample(tmp_path, capsys):
    from bptt.cli import main

    corpus = tmp_path / "c.txt"
    corpus.write_text(load_corpus("es")[0][:3000], encoding="utf-8")
    out = tmp_path / "lm"
    rc = main(["train", "charlm", "--corpus", str(corpus), "--cell", "gru", "--hidden", "16", "--epochs", "2",
               "--batch-size", "4", "--seq-len", "16", "--out", str(out), "--quiet", "--no-progress", "--sample-chars", "0"])
    assert rc == 0
    capsys.readouterr()
    args = ["sample", str(out / "checkpoint.npz"), "--prime", "La ", "--temperature", "0.5", "-n", "40", "--seed", "1"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first and first.startswith("La ") and len(first.rstrip("\n")) == 43
    assert main(["sample", str(out / "checkpoint.npz"), "--prime", "\u4e2d"]) == 2
    assert main(["sample", str(tmp_path / "none.npz")]) == 2


def _stated_defaults(path):
    """The flags of the sentence "With no flags, `bptt train charlm` runs `--flag value ...`" in a doc file."""
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / path).read_text(encoding="utf-8")
    found = re.findall(r"With no flags, `bptt train charlm` runs\s+`([^`]+)`", text)
    assert len(found) == 1, f"{path}: expected one statement of the charlm defaults, got {len(found)}"
    words = shlex.split(found[0])
    assert len(words) % 2 == 0 and all(w.startswith("--") for w in words[::2]), words
    return dict(zip(words[::2], words[1::2]))


@pytest.mark.parametrize("path", ["README.md", "docs/training.md"])
def test_charlm_defaults_are_the_ones_the_docs_state(path):
    from bptt.cli.train import _resolve, _train_parser

    stated = _stated_defaults(path)
    # every knob of the default run is stated, not only some
    assert set(stated) >= {"--corpus", "--max-chars", "--cell", "--hidden", "--seq-len", "--batch-size", "--epochs",
                           "--lr", "--optimizer", "--schedule", "--clip", "--temperature"}
    parser = _train_parser()
    args = _resolve(parser.parse_args(["charlm"]))
    actions = {o: a for a in parser._actions for o in a.option_strings}
    for flag, value in stated.items():
        action = actions[flag]
        assert getattr(args, action.dest) == (action.type or str)(value), flag
    # the charlm schedule default is its own: the other tasks keep a constant learning rate
    assert _resolve(parser.parse_args(["xor"])).schedule == "none"
    assert _resolve(parser.parse_args(["adding"])).schedule == "none"
