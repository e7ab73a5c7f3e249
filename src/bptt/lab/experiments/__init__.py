"""The lab's experiments; each module has ``run``, ``plot``, ``conclude``, ``BUDGETS``, ``TITLE``, ``SETUP``.

    from bptt.lab.experiments import get_experiment
    res = get_experiment("vanishing").run(budget="quick")
    res.rows, res.curves, res.conclusion("es")
"""

from .base import BUDGET_NAMES, EXPERIMENT_MODULES, ExperimentResult, get_experiment

EXPERIMENTS = tuple(EXPERIMENT_MODULES)

__all__ = ["BUDGET_NAMES", "EXPERIMENTS", "EXPERIMENT_MODULES", "ExperimentResult", "get_experiment"]
