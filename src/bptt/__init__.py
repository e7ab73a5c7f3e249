"""bptt — backpropagation and backpropagation-through-time by hand, in NumPy.

Exact (torch-identical semantics, verified against autograd and finite
differences), fast (one GEMM per layer for all input projections and for all
parameter gradients), and written to be read: each equation has one function,
next to its backward.
"""

from .gradcheck import gradcheck
from .nn import (
    GRU, LSTM, MLP, GRUCell, LSTMCell, RNNCell, RNN, CrossEntropyLoss, Identity, LeakyReLU, Linear, Module, MSELoss, Parameter, ReLU,
    Sequential, Sigmoid, SumSquaresLoss, Tanh,
)

__version__ = "0.1.0"

__all__ = [
    "Module", "Parameter", "Linear", "Tanh", "Sigmoid", "ReLU", "LeakyReLU", "Identity",
    "Sequential", "MLP", "CrossEntropyLoss", "MSELoss", "SumSquaresLoss", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "gradcheck",
]
