"""Shared test helpers. Tests run in float64 against torch autograd and finite differences."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
