"""Generate text from a :class:`~bptt.train.models.CharRNN`.

    state ← run the model over the prime text
    repeat n times:
        p = softmax(logits / temperature)       temperature → 0: argmax (greedy)
        c ~ p   (inverse CDF with a seeded generator)
        feed c, keep the state

The same model, prime, temperature and seed always give the same text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.text import CharVocab
from ..functional.losses import softmax
from .models import CharRNN


def sample(model: CharRNN, vocab: CharVocab, n: int = 300, prime: str = "", temperature: float = 1.0,
           seed: Any = 0) -> str:
    """``n`` characters continuing ``prime`` (not included in the result).

    ``temperature`` ≥ 0: logits are divided by it before the softmax; 0 picks
    the most probable character every time. An empty ``prime`` starts from a
    newline if the vocabulary has one, else from its first character.
    """
    if not isinstance(model, CharRNN):
        raise TypeError(f"model: expected a CharRNN, got {type(model).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: expected an int >= 0, got {n!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating)) or not float(temperature) >= 0:
        raise ValueError(f"temperature: expected a float >= 0, got {temperature!r}")
    if len(vocab) != model.vocab_size:
        raise ValueError(f"vocab: has {len(vocab)} characters but the model was built for {model.vocab_size}")
    if not prime:
        prime = "\n" if "\n" in vocab else vocab.chars[0]
    ids = vocab.encode(prime, "prime")
    rng = np.random.default_rng(seed)
    was = model.training
    model.eval()
    try:
        logits, state = model(ids[:, None], None)
        last = logits[-1, 0].astype(np.float64)
        out = np.empty(int(n), dtype=np.int64)
        for i in range(int(n)):
            if temperature == 0:
                c = int(np.argmax(last))
            else:
                with np.errstate(over="ignore", invalid="ignore"):
                    z = last / float(temperature)
                    if not np.isfinite(z).all():  # a tiny temperature overflows: shift first (-> the argmax)
                        z = (last - last.max()) / float(temperature)
                p = softmax(z)
                cdf = np.cumsum(p)
                c = int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1))
            out[i] = c
            logits, state = model(np.array([[c]]), state)
            last = logits[-1, 0].astype(np.float64)
        return vocab.decode(out)
    finally:
        model.train(was)
