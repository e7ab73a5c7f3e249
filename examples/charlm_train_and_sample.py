"""Train a small character-level LSTM on bptt's Spanish text for a short while, then sample from it.

    python examples/charlm_train_and_sample.py            # about 90 s of CPU time
    BPTT_EXAMPLES_SMALL=1 python examples/...             # a few seconds (what the tests run)

Writes its checkpoint to ./charlm-example/ (under the current directory). Everything is NumPy:
truncated BPTT over 16 parallel streams, Adam, gradient clipping.
"""

import os

from bptt.data import CharVocab, load_corpus, split_ids
from bptt.optim import Adam
from bptt.train import CharLMObjective, CharRNN, Trainer, sample

SMALL = os.environ.get("BPTT_EXAMPLES_SMALL") == "1"
HIDDEN, CHARS, EPOCHS = (32, 4_000, 1) if SMALL else (128, 60_000, 12)

text, name = load_corpus("es", max_chars=CHARS)
vocab = CharVocab.from_text(text)
train_ids, val_ids = split_ids(vocab.encode(text), val_fraction=0.1)
model = CharRNN(len(vocab), HIDDEN, cell="lstm", seed=0)
trainer = Trainer(CharLMObjective(model, train_ids, batch_size=16, seq_len=32), Adam(model, lr=5e-3),
                  clip_norm=5.0, val_data=val_ids, checkpoint="charlm-example/checkpoint.npz", progress=False,
                  log=print)
history = trainer.fit(EPOCHS)

first, last = history.epochs[0], history.epochs[-1]
print(f"corpus {name}: {len(text)} characters, vocabulary of {len(vocab)}")
print(f"validation loss {first['val_loss']:.3f} -> {last['val_loss']:.3f} nats/char after {EPOCHS} epoch(s)")
print("sample:", repr(sample(model, vocab, n=200, prime="La red ", temperature=0.8, seed=0)))
