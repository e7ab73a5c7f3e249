"""Optimizers, learning-rate schedules and regularization with torch.optim's names and update rules."""

from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_, get_total_norm
from .lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .optimizer import Optimizer
from .regularization import Regularizer, decay_groups, l1_penalty, l2_penalty, select_parameters
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "LambdaLR", "LinearLR", "PolynomialLR", "OneCycleLR", "SequentialLR", "ReduceLROnPlateau",
    "Regularizer", "l1_penalty", "l2_penalty", "decay_groups", "select_parameters",
    "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
]
