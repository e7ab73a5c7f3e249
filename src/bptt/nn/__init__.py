"""Thin, torch-like modules over :mod:`bptt.functional`."""

from .cell import CellBase, GRUCell, LSTMCell, RNNCell
from .activation import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .container import MLP, Sequential
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss, SumSquaresLoss
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, RNNBase
from .sequence import Embedding, Flatten, HiddenState, Transpose, Unflatten

__all__ = [
    "Module", "Parameter", "Linear", "Tanh", "Sigmoid", "ReLU", "LeakyReLU", "Identity",
    "Sequential", "MLP", "CrossEntropyLoss", "MSELoss", "SumSquaresLoss", "RNNBase", "RNN", "LSTM", "GRU",
    "CellBase", "RNNCell", "LSTMCell", "GRUCell",
    "Embedding", "Flatten", "Unflatten", "Transpose", "HiddenState",
]
