"""A hyper-parameter sweep with Optuna, stored in an SQLite file so that it can be resumed or shared.

    python examples/optuna_sweep.py              # 20 trials; run it again and it adds 20 more
    BPTT_EXAMPLES_SMALL=1 python examples/...    # 4 short trials (what the tests run)

Each trial trains an MLP (bptt, NumPy) on the two-spirals set with a learning rate, a hidden
width and an activation chosen by Optuna's TPE sampler, and reports the validation accuracy.
The study lives in ./optuna-sweep.db (under the current directory): several processes given the
same storage URL share one study, and `optuna-dashboard sqlite:///optuna-sweep.db` shows it.
"""

import os

import optuna

from bptt import MLP
from bptt.data import make_spirals
from bptt.optim import Adam
from bptt.train import SupervisedObjective, Trainer

SMALL = os.environ.get("BPTT_EXAMPLES_SMALL") == "1"
TRIALS, EPOCHS, N = (4, 3, 200) if SMALL else (20, 60, 600)
STORAGE = "sqlite:///optuna-sweep.db"  # a relative path: the file is created in the current directory

train, val = make_spirals(N, noise=0.1, seed=0).split(0.25, seed=0)


def objective(trial: optuna.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
    hidden = trial.suggest_int("hidden", 8, 64, log=True)
    activation = trial.suggest_categorical("activation", ["tanh", "relu", "sigmoid"])
    model = MLP([2, hidden, hidden, 2], activation=activation, seed=trial.number)
    trainer = Trainer(SupervisedObjective(model, train, batch_size=32, seed=trial.number), Adam(model, lr=lr),
                      val_data=val, progress=False)
    history = trainer.fit(EPOCHS)
    return history.last("val_accuracy")


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name="spirals-mlp", storage=STORAGE, direction="maximize", load_if_exists=True,
                            sampler=optuna.samplers.TPESampler())
before = len(study.trials)
study.optimize(objective, n_trials=TRIALS)
print(f"{len(study.trials)} trials in {STORAGE} ({len(study.trials) - before} new)")
print(f"best validation accuracy {study.best_value:.3f} with {study.best_params}")
