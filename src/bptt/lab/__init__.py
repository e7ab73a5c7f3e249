"""The lab: the seeds' exercises as experiments, the step-by-step explainer and the one-report ``bptt lab``.

* :mod:`bptt.lab.explain` — ``bptt explain``: seed 000's network (or another) traced step by step.
* :mod:`bptt.lab.experiments` — one module per experiment, each ``run(budget, seed) -> ExperimentResult``.
* :mod:`bptt.lab.report` — ``bptt lab``: every experiment, one self-contained HTML report.

Plotting (matplotlib), progress bars (Rich/tqdm) and Optuna are imported lazily, inside the
functions that need them (``pip install bptt[lab]``).
"""
