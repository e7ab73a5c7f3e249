"""Data: 2-D classification sets, sequence tasks, character corpora, mini-batching."""

from .classification import make_blobs, make_moons, make_spirals, make_xor
from .dataset import IGNORE_INDEX, Batch, Dataset, iterate_minibatches, num_batches, pad_sequences
from .sequences import (
    REBER_SYMBOLS, TASKS, adding_problem, copy_memory, is_reber, make_task, parity, reber, reber_strings,
    reber_valid_next, sine_wave,
)
from .text import CharVocab, english_corpus, load_corpus, load_text, spanish_corpus, split_ids, stream_batches, streams

__all__ = [
    "Dataset", "Batch", "IGNORE_INDEX", "iterate_minibatches", "num_batches", "pad_sequences",
    "make_blobs", "make_xor", "make_moons", "make_spirals",
    "sine_wave", "adding_problem", "copy_memory", "reber", "reber_strings", "is_reber", "reber_valid_next",
    "REBER_SYMBOLS", "parity", "TASKS", "make_task",
    "CharVocab", "load_text", "english_corpus", "spanish_corpus", "load_corpus", "split_ids", "streams", "stream_batches",
]
