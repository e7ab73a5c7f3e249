"""Training: the Trainer loop, objectives per task kind, models, checkpoints, history, sampling."""

from .checkpoint import atomic_savez, load_npz
from .history import History
from .models import CharRNN, Embedding, SequenceNet, detach_state, make_recurrent
from .objectives import CharLMObjective, Objective, SupervisedObjective
from .sampling import sample
from .trainer import EarlyStopping, Trainer

__all__ = [
    "Trainer", "EarlyStopping", "History", "Objective", "SupervisedObjective", "CharLMObjective",
    "SequenceNet", "CharRNN", "Embedding", "make_recurrent", "detach_state", "sample", "atomic_savez", "load_npz",
]
