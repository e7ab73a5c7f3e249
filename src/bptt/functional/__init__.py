"""Pure forward/backward functions: ``forward(...) -> (out, cache)``, ``backward(dout, cache) -> grads``.

The recurrent cells' readable step pairs (``rnn.py``, ``lstm.py``, ``gru.py``), their
registry (``cells.py``) and the reference layer loop (``recurrent.py``) are the crude
version; ``fast/`` holds the efficient backends, tested against it.
"""

from .activations import (
    get_activation, identity_backward, identity_forward, leaky_relu_backward, leaky_relu_forward,
    relu_backward, relu_forward, sigmoid, sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward,
)
from .linear import linear_backward, linear_forward
from .losses import (
    cross_entropy_backward, cross_entropy_forward, log_softmax, mse_backward, mse_forward, softmax,
    sum_squares_backward, sum_squares_forward,
)
from .rnn import rnn_step_backward, rnn_step_forward
from .lstm import lstm_step_backward, lstm_step_forward
from .gru import gru_step_backward, gru_step_forward
from .cells import CELLS, CellKind
from .recurrent import layer_backward, layer_forward
