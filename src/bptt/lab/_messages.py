"""The lab's message catalogue (see :mod:`bptt.lab.i18n`): key -> (English, Spanish).

One entry per line pair, both languages side by side, so a missing translation is
visible here and a test checks both have the same ``{placeholders}``.
"""

from __future__ import annotations

_ENTRIES: dict[str, tuple[str, str]] = {
    # -- the HTML report -------------------------------------------------------------------------
    "report.title": ("bptt lab — backpropagation through time, measured",
                     "bptt lab — retropropagación a través del tiempo, medida"),
    "report.intro": (
        "Every exercise of the course seeds run as an experiment with bptt (NumPy, no autograd). Each section states "
        "the setup, the conclusions written from the numbers measured in this run (mean ± standard deviation over "
        "seeds; a difference is stated only when it is larger than the two spreads together), the figures and the "
        "tables. Raw data: the CSV/JSON files next to this report.",
        "Cada ejercicio de las semillas del curso, ejecutado como experimento con bptt (NumPy, sin autograd). Cada "
        "sección indica el montaje, las conclusiones escritas a partir de los números medidos en esta ejecución "
        "(media ± desviación estándar entre semillas; una diferencia se afirma solo si supera la suma de las dos "
        "dispersiones), las figuras y las tablas. Datos crudos: los archivos CSV/JSON junto a este informe."),
    "report.budget": ("budget", "presupuesto"),
    "report.seed": ("seed", "semilla"),
    "report.runtime": ("total run time", "tiempo total"),
    "report.when": ("run on", "ejecutado el"),
    "report.machine": ("machine", "máquina"),
    "report.contents": ("Contents", "Contenido"),
    "report.setup": ("Setup", "Montaje"),
    "report.conclusion": ("Conclusions", "Conclusiones"),
    "report.figure": ("Figure", "Figura"),
    "report.data": ("raw data", "datos crudos"),
    "report.seconds": ("s", "s"),
    "report.failed": ("this experiment failed", "este experimento falló"),
    "report.command": ("command", "orden"),
    "report.rows": ("{n} rows", "{n} filas"),
    "budget.tiny": ("tiny", "mínimo"),
    "budget.quick": ("quick", "rápido"),
    "budget.full": ("full", "completo"),
    "unit.epoch": ("epoch", "época"),
    "unit.epoch_pl": ("epochs", "épocas"),
    "unit.step": ("step", "paso"),
    "unit.step_pl": ("steps", "pasos"),
    "word.never": ("never", "nunca"),
    "word.none": ("none", "ninguna"),
    # -- bptt lab / experiment: progress and errors ----------------------------------------------
    "run.missing": ("{what} needs {pkgs}, which is not installed: pip install {pip}",
                    "{what} necesita {pkgs}, que no está instalado: pip install {pip}"),
    "run.failed": ("bptt {cmd}: {name} failed: {err}", "bptt {cmd}: {name} falló: {err}"),
    "progress.vanishing: gradients": ("vanishing: gradients", "desvanecimiento: gradientes"),
    "progress.vanishing: learning": ("vanishing: learning", "desvanecimiento: aprendizaje"),
    "progress.activations": ("activations", "activaciones"),
    "progress.regularization": ("regularization", "regularización"),
    "progress.batch-size": ("batch size", "tamaño del lote"),
    "progress.search": ("search", "búsqueda"),
    "progress.lengths": ("lengths", "longitudes"),
    "run.done": ("{n} of {total} experiments", "{n} de {total} experimentos"),
    # -- command-line help -----------------------------------------------------------------------
    "cli.usage": ("usage: ", "uso: "),
    "cli.options": ("options", "opciones"),
    "cli.positionals": ("positional arguments", "argumentos posicionales"),
    "cli.help": ("show this help message and exit", "muestra esta ayuda y termina"),
    "cli.explain": ("trace a small RNN step by step: every a_t, h_t, o_t, y_t, every dL/dh_t, every gradient as a "
                    "sum of per-step terms",
                    "sigue una RNN pequeña paso a paso: cada a_t, h_t, o_t, y_t, cada dL/dh_t, cada gradiente como "
                    "suma de términos por paso"),
    "cli.explain_desc": ("By default the network of seed 000 (two tanh cells, nh=2, nx=2, ny=4, softmax + "
                         "cross-entropy per step, torch.manual_seed(0)); flags give another one.",
                         "Por defecto, la red de la semilla 000 (dos celdas tanh, nh=2, nx=2, ny=4, softmax + "
                         "entropía cruzada en cada paso, torch.manual_seed(0)); las opciones dan otra."),
    "cli.cell": ("recurrent cell (default rnn)", "celda recurrente (por defecto rnn)"),
    "cli.nonlinearity": ("non-linearity of --cell rnn (default tanh)", "no linealidad de --cell rnn (por defecto tanh)"),
    "cli.hidden": ("nh, hidden size (default 2)", "nh, tamaño oculto (por defecto 2)"),
    "cli.inputs": ("nx, input size (default 2)", "nx, tamaño de la entrada (por defecto 2)"),
    "cli.classes": ("ny, number of output classes (default 4)", "ny, número de clases de salida (por defecto 4)"),
    "cli.steps": ("T, sequence length (default 2)", "T, longitud de la secuencia (por defecto 2)"),
    "cli.seed_explain": ("torch.manual_seed for the values (default 0)",
                         "torch.manual_seed para los valores (por defecto 0)"),
    "cli.targets": ("comma-separated class per step, e.g. 2,0 (default: the seed's / drawn)",
                    "clase por paso separada por comas, p. ej. 2,0 (por defecto: las de la semilla / sorteadas)"),
    "cli.lang": ("language of everything written: en (English) or es (Spanish); with --help, of the help too",
                 "idioma de todo lo escrito: en (inglés) o es (español); con --help, también de la ayuda"),
    "cli.format": ("text, md (Markdown) or json (full precision)", "text, md (Markdown) o json (precisión completa)"),
    "cli.paths": ("add the per-(t, k) table of the literal sum over paths (seed 003)",
                  "añade la tabla por (t, k) de la suma literal sobre caminos (semilla 003)"),
    "cli.decimals": ("digits shown (the seed prints 4); json is always full precision",
                     "dígitos mostrados (la semilla imprime 4); json siempre con precisión completa"),
    "cli.float64": ("compute in float64 (the seed computes in float32)",
                    "calcula en float64 (la semilla calcula en float32)"),
    "cli.numpy": ("draw the values with NumPy instead of torch", "genera los valores con NumPy en lugar de torch"),
    "cli.experiment": ("run one experiment of the lab and write its figures and tables",
                       "ejecuta un experimento del laboratorio y escribe sus figuras y tablas"),
    "cli.experiment_name": ("one of: {names}", "uno de: {names}"),
    "cli.storage": ("search: an Optuna storage URL (e.g. sqlite:///study.db) to share a sweep",
                    "search: una URL de almacenamiento de Optuna (p. ej. sqlite:///study.db) para compartir un barrido"),
    "cli.lab": ("run every experiment (quick budget by default) and write one HTML report",
                "ejecuta todos los experimentos (presupuesto rápido por defecto) y escribe un informe HTML"),
    "cli.only": ("comma-separated subset of experiments", "subconjunto de experimentos separado por comas"),
    "cli.jobs": ("experiments run in parallel processes, at least 1 (default: min(2, CPUs))",
                 "experimentos ejecutados en procesos paralelos, al menos 1 (por defecto: min(2, CPU))"),
    "cli.out_lab": ("output folder (default: lab-report/; the Spanish report goes to its es/ subfolder)",
                    "carpeta de salida (por defecto: lab-report/; el informe en español va a su subcarpeta es/)"),
    "cli.out_experiment": ("output folder (default: experiments/NAME/ under the current folder)",
                           "carpeta de salida (por defecto: experiments/NAME/ en la carpeta actual)"),
    "cli.full": ("the thorough version: same as --budget full", "la versión completa: igual que --budget full"),
    "cli.budget": ("tiny: seconds (a smoke test); quick: a few minutes (default); full: the thorough version",
                   "tiny: segundos (una prueba de humo); quick: unos minutos (por defecto); full: la versión completa"),
    "cli.seed": ("seed of every random draw (default 0)", "semilla de todos los sorteos (por defecto 0)"),
    "cli.no_progress": ("no progress display", "sin indicador de progreso"),
    "cli.seeds": ("rebuild the course's networks and print their numbers next to bptt's",
                  "reconstruye las redes del curso e imprime sus números junto a los de bptt"),
    # -- bptt explain ----------------------------------------------------------------------------
    "explain.title": ("bptt explain — {what}", "bptt explain — {what}"),
    "explain.seed_net": ("the network of seed 000", "la red de la semilla 000"),
    "explain.custom_net": ("{article} {cell} network", "una red {cell}"),
    "explain.sizes": ("cell {cell} ({nl}), nh = {nh}, nx = {nx}, ny = {ny}, T = {T}",
                      "celda {cell} ({nl}), nh = {nh}, nx = {nx}, ny = {ny}, T = {T}"),
    "explain.drawn_torch": ("values drawn with torch.manual_seed({seed}) and torch.rand in the order {order}",
                            "valores generados con torch.manual_seed({seed}) y torch.rand en el orden {order}"),
    "explain.drawn_numpy_chosen": (
        "values drawn with numpy.random.default_rng({seed}) in the order {order} "
        "(not the seed's numbers, which come from torch.manual_seed)",
        "valores generados con numpy.random.default_rng({seed}) en el orden {order} "
        "(no son los números de la semilla, que vienen de torch.manual_seed)"),
    "explain.targets": ("targets", "objetivos"),
    "explain.params": ("Parameters", "Parámetros"),
    "explain.forward": ("Forward pass", "Propagación hacia adelante"),
    "explain.step": ("step t = {t}", "paso t = {t}"),
    "explain.class": ("class", "clase"),
    "explain.loss": ("loss", "pérdida"),
    "explain.backward": ("Backward pass: the gradient reaching each hidden state",
                         "Propagación hacia atrás: el gradiente que llega a cada estado oculto"),
    "explain.backward_note": ("∂L/∂h_t collects J_t's own gradient and what flows back from step t+1 "
                              "(what h_t.retain_grad() shows in torch)",
                              "∂L/∂h_t reúne el gradiente de J_t y lo que regresa desde el paso t+1 "
                              "(lo que muestra h_t.retain_grad() en torch)"),
    "explain.grads": ("Parameter gradients: the sum of one term per step",
                      "Gradientes de los parámetros: la suma de un término por paso"),
    "explain.grad_note": ("the same parameter is used at every step, so its gradient is a sum over steps (seed 001, 003)",
                          "el mismo parámetro se usa en cada paso, así que su gradiente es una suma sobre los pasos "
                          "(semillas 001, 003)"),
    "explain.total": ("total", "total"),
    "explain.check": ("Check", "Verificación"),
    "explain.check_line": ("efficient recursion (layer_backward) vs. literal sum over paths (bptt.reference), {dtype}: "
                           "max |diff| = {err:.2e}",
                           "recursión eficiente (layer_backward) frente a la suma literal sobre caminos "
                           "(bptt.reference), {dtype}: máx |dif| = {err:.2e}"),
    "explain.paths": ("Paths (seed 003): one term per (t, k), the loss J_t reached back to step k",
                      "Caminos (semilla 003): un término por (t, k), la pérdida J_t llevada hasta el paso k"),
    "explain.paths_note": ("∂J_t/∂h_k = ∂J_t/∂h_t ∏_{j=k+1}^{t} ∂h_j/∂h_{j−1}; each row is one term of the "
                           "double sum",
                           "∂J_t/∂h_k = ∂J_t/∂h_t ∏_{j=k+1}^{t} ∂h_j/∂h_{j−1}; cada fila es un término de la "
                           "doble suma"),
    "explain.col_t": ("t", "t"),
    "explain.col_k": ("k", "k"),
    "explain.col_norm": ("‖∂J_t/∂s_k‖", "‖∂J_t/∂s_k‖"),
    "explain.col_term": ("term {p}", "término {p}"),
    # -- words inside tables and legends ---------------------------------------------------------
    "val.adding": ("adding problem", "problema de la suma"),
    "val.copy": ("copy task", "tarea de copia"),
    "val.none": ("none", "ninguna"),
    "val.l1": ("L1", "L1"),
    "val.l2": ("L2", "L2"),
    "val.lengths": ("lengths (masks)", "longitudes (máscaras)"),
    "val.pad-end": ("padded at the end", "relleno al final"),
    "val.pad-front": ("padded at the front", "relleno al principio"),
    "val.grid": ("grid", "cuadrícula"),
    "val.random": ("random", "aleatoria"),
    "val.tpe": ("TPE", "TPE"),
    "val.mlp": ("MLP", "MLP"),
    "val.rnn": ("RNN", "RNN"),
    "val.sigmoid": ("sigmoid", "sigmoide"),
    "val.leaky_relu": ("leaky ReLU", "ReLU con fuga"),
    "val.relu": ("ReLU", "ReLU"),
    "val.tanh": ("tanh", "tanh"),
    "val.lr": ("learning rate", "tasa de aprendizaje"),
    "val.epochs": ("epochs", "épocas"),
    "val.hidden": ("hidden size", "tamaño oculto"),
    "table.main": ("Configurations", "Configuraciones"),
    "table.learning": ("Learning vs length (mean over seeds)", "Aprendizaje según la longitud (media entre semillas)"),
    "table.learning_runs": ("Learning: every run", "Aprendizaje: cada ejecución"),
    "table.runs": ("Every run", "Cada ejecución"),
    "table.best": ("Best trial per sampler", "Mejor ensayo por muestreador"),
    "table.samplers": ("Samplers over seeds", "Muestreadores entre semillas"),
}


# -- vanishing -----------------------------------------------------------------------------------
_VANISHING: dict[str, tuple[str, str]] = {
    "vanishing.title": ("Vanishing and exploding gradients through time",
                        "Desvanecimiento y explosión del gradiente a través del tiempo"),
    "vanishing.setup": (
        "Products of the Jacobians ∂s_j/∂s_{j−1} of seed 003's sum over paths, computed by bptt.reference (in log "
        "space, so nothing underflows) for an Elman RNN (tanh, sigmoid, ReLU), an LSTM (s = (h, c)) and a GRU with "
        "W_hh scaled to a given spectral radius ρ; one loss at the last step; several random networks per "
        "configuration. Then the adding problem (and, in the full budget, the copy task) learned at growing lengths: "
        "Adam with a learning rate per cell (from a small search on validation accuracy), gradient clipping 5, LSTM "
        "with forget-gate bias 1, several seeds per cell and length.",
        "Productos de los jacobianos ∂s_j/∂s_{j−1} de la suma sobre caminos de la semilla 003, calculados por "
        "bptt.reference (en escala logarítmica, para que nada se anule por desbordamiento inferior) para una RNN de "
        "Elman (tanh, sigmoide, ReLU), una LSTM (s = (h, c)) y una GRU con W_hh escalada a un radio espectral ρ; una "
        "sola pérdida en el último paso; varias redes aleatorias por configuración. Después, el problema de la suma "
        "(y, con el presupuesto completo, la tarea de copia) aprendido con longitudes crecientes: Adam con una tasa "
        "de aprendizaje por celda (de una pequeña búsqueda sobre la precisión de validación), recorte del gradiente "
        "a 5, LSTM con sesgo de olvido 1, varias semillas por celda y longitud."),
    "vanishing.c.rate_head": (
        "Gradient factor per step back in time γ (one loss at the last step, T = {T}; mean ± std over {n} random "
        "networks):",
        "Factor del gradiente por paso hacia atrás γ (una sola pérdida en el último paso, T = {T}; media ± desviación "
        "sobre {n} redes aleatorias):"),
    "vanishing.c.rate_item": ("{cell}: γ = {lo} at ρ = {rlo}, {hi} at ρ = {rhi}.",
                              "{cell}: γ = {lo} con ρ = {rlo}, {hi} con ρ = {rhi}."),
    "vanishing.c.ratio": ("tanh RNN, ρ = {rho}, T = {T}: ‖∂L/∂h_1‖ is {orders} orders of magnitude below ‖∂L/∂h_T‖.",
                          "RNN tanh, ρ = {rho}, T = {T}: ‖∂L/∂h_1‖ está {orders} órdenes de magnitud por debajo de "
                          "‖∂L/∂h_T‖."),
    "vanishing.c.cross": ("tanh RNN: γ crosses 1 between ρ = {a} and ρ = {b}; below, the gradient vanishes "
                          "geometrically.",
                          "RNN tanh: γ cruza 1 entre ρ = {a} y ρ = {b}; por debajo, el gradiente se desvanece "
                          "geométricamente."),
    "vanishing.c.nocross_below": (
        "tanh RNN: γ stays below 1 at every radius (largest {gmax} at ρ = {rmax}): the units saturate — the mean "
        "tanh′(a) falls from {d0} (ρ = {rlo}) to {d1} (ρ = {rhi}) — which offsets the larger weights.",
        "RNN tanh: γ queda por debajo de 1 con todos los radios (máximo {gmax} con ρ = {rmax}): las unidades se "
        "saturan — la media de tanh′(a) baja de {d0} (ρ = {rlo}) a {d1} (ρ = {rhi}) — y eso compensa los pesos "
        "mayores."),
    "vanishing.c.nocross_above": (
        "tanh RNN: γ stays above 1 at every radius (largest {gmax} at ρ = {rmax}); the mean tanh′(a) goes from {d0} "
        "(ρ = {rlo}) to {d1} (ρ = {rhi}).",
        "RNN tanh: γ queda por encima de 1 con todos los radios (máximo {gmax} con ρ = {rmax}); la media de tanh′(a) "
        "va de {d0} (ρ = {rlo}) a {d1} (ρ = {rhi})."),
    "vanishing.c.relu_explodes": ("ReLU RNN (no saturation): γ = {hi} at ρ = {rhi} — the gradient explodes.",
                                  "RNN ReLU (sin saturación): γ = {hi} con ρ = {rhi} — el gradiente explota."),
    "vanishing.c.relu_ok": ("ReLU RNN: γ = {hi} at ρ = {rhi} — no clear explosion at these radii.",
                            "RNN ReLU: γ = {hi} con ρ = {rhi} — sin explosión clara con estos radios."),
    "vanishing.c.gates_more": (
        "At initialisation (ρ = {rho}) the gated cells keep clearly more gradient: γ = {lstm} (LSTM, forget bias 1), "
        "{gru} (GRU) against {tanh} (tanh RNN).",
        "Al inicializar (ρ = {rho}) las celdas con compuertas conservan claramente más gradiente: γ = {lstm} (LSTM, "
        "sesgo de olvido 1), {gru} (GRU) frente a {tanh} (RNN tanh)."),
    "vanishing.c.gates_unclear": (
        "At initialisation (ρ = {rho}) no clear difference between the gated cells and the tanh RNN: γ = {lstm} "
        "(LSTM), {gru} (GRU), {tanh} (tanh RNN); their advantage is what training makes of the gates (below).",
        "Al inicializar (ρ = {rho}) no hay diferencia clara entre las celdas con compuertas y la RNN tanh: γ = {lstm} "
        "(LSTM), {gru} (GRU), {tanh} (RNN tanh); su ventaja es lo que el entrenamiento hace de las compuertas "
        "(abajo)."),
    "vanishing.c.learn_adding": (
        "Adding problem, T = {T} ({steps} steps, {n} seeds): test accuracy {items}; chance {chance}.",
        "Problema de la suma, T = {T} ({steps} pasos, {n} semillas): precisión de prueba {items}; azar {chance}."),
    "vanishing.c.learn_copy": (
        "Copy task, delay T = {T} ({steps} steps, {n} seeds): accuracy on the recalled symbols {items}; chance {chance}.",
        "Tarea de copia, demora T = {T} ({steps} pasos, {n} semillas): precisión en los símbolos recordados {items}; "
        "azar {chance}."),
    "vanishing.c.gates_win": ("{task}: the gated cells ({cells}) beat the tanh RNN by more than the spread at "
                              "T = {Ts}.",
                              "{task}: las celdas con compuertas ({cells}) superan a la RNN tanh por más que la "
                              "dispersión con T = {Ts}."),
    "vanishing.c.gates_nodiff": ("{task}: no clear difference between the gated cells ({cells}) and the tanh RNN at "
                                 "T = {Ts}.",
                                 "{task}: sin diferencia clara entre las celdas con compuertas ({cells}) y la RNN tanh "
                                 "con T = {Ts}."),
    "vanishing.c.literature_agrees": (
        "{task}: as in the literature (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015), the gated cells learn "
        "at T = {T} while the tanh RNN stays far behind.",
        "{task}: como en la literatura (Hochreiter y Schmidhuber 1997; Le, Jaitly y Hinton 2015), las celdas con "
        "compuertas aprenden con T = {T} mientras la RNN tanh queda muy atrás."),
    "vanishing.c.literature_disagrees": (
        "{task}, T = {T}: {cells} did not clearly learn in {steps} steps ({acc}; chance {chance}), unlike the "
        "literature ({ref}). Why: {why}",
        "{task}, T = {T}: {cells}, sin aprendizaje claro en {steps} pasos ({acc}; azar {chance}), a diferencia de la "
        "literatura ({ref}). Por qué: {why}"),
    "vanishing.ref.adding": ("LSTM solves the adding problem at T ≥ 100, Hochreiter & Schmidhuber 1997",
                             "la LSTM resuelve el problema de la suma con T ≥ 100, Hochreiter y Schmidhuber 1997"),
    "vanishing.ref.copy": ("LSTM recalls across delays ≥ 100 with long training, Hochreiter & Schmidhuber 1997",
                           "la LSTM recuerda a través de demoras ≥ 100 con un entrenamiento largo, Hochreiter y "
                           "Schmidhuber 1997"),
    "vanishing.why.short": (
        "at long T a gated cell first sits on a plateau (the answer without memory) that lasts longer than this budget "
        "(accuracy {a0} at step {s0}, {a1} at the end); --budget full trains {full} steps.",
        "con T largo una celda con compuertas pasa primero por una meseta (la respuesta sin memoria) más larga que "
        "este presupuesto (precisión {a0} en el paso {s0}, {a1} al final); --budget full entrena {full} pasos."),
    "vanishing.why.long": (
        "the training signal reaches the stored symbols only through the whole delay, so the cell first sits "
        "long on the memoryless plateau (the most frequent symbol); it was still climbing when the budget ran out "
        "(accuracy {a0} at step {s0}, {a1} at the end): more steps, not another cell, are what it lacks.",
        "la señal de entrenamiento llega a los símbolos guardados solo a través de toda la demora, así que la celda "
        "pasa primero mucho tiempo en la meseta sin memoria (el símbolo más frecuente); aún subía cuando se acabó "
        "el presupuesto (precisión {a0} en el paso {s0}, {a1} al final): le faltan pasos, no otra celda."),
    "vanishing.why.flat": (
        "the accuracy barely moved in the second half ({a0} at step {s0}, {a1} at the end): the gradient through the "
        "whole delay finds the stored symbols only after far more updates.",
        "la precisión apenas se movió en la segunda mitad ({a0} en el paso {s0}, {a1} al final): el gradiente a través "
        "de toda la demora encuentra los símbolos guardados solo tras muchas más actualizaciones."),
    "vanishing.c.trained": (
        "After training (adding problem, T = {T}): log10 ‖∂ŷ/∂s_1‖/‖∂ŷ/∂s_T‖, how much the prediction still depends "
        "on step 1, is {items}.",
        "Tras entrenar (problema de la suma, T = {T}): log10 ‖∂ŷ/∂s_1‖/‖∂ŷ/∂s_T‖, cuánto depende aún la predicción "
        "del paso 1, es {items}."),
    "vanishing.c.check": ("Check: the Jacobian products agree with the efficient recursion to {err} (relative).",
                          "Verificación: los productos de jacobianos coinciden con la recursión eficiente hasta {err} "
                          "(relativo)."),
    "lbl.step_k": ("step k", "paso k"),
    "lbl.log10_grad": ("log10 ‖∂L/∂s_k‖, loss at T = {T}", "log10 ‖∂L/∂s_k‖, pérdida en T = {T}"),
    "lbl.radius_legend": ("spectral radius ρ of W_hh", "radio espectral ρ de W_hh"),
    "lbl.radius": ("spectral radius ρ of W_hh", "radio espectral ρ de W_hh"),
    "lbl.gamma": ("gradient factor per step γ", "factor del gradiente por paso γ"),
    "lbl.length_T": ("sequence length T", "longitud de la secuencia T"),
    "lbl.delay_T": ("delay T", "demora T"),
    "lbl.log10_ratio": ("log10 ‖∂L/∂s_1‖ / ‖∂L/∂s_T‖ (ρ = {rho})", "log10 ‖∂L/∂s_1‖ / ‖∂L/∂s_T‖ (ρ = {rho})"),
    "lbl.log10_map": ("log10 ‖∂s_t/∂s_k‖", "log10 ‖∂s_t/∂s_k‖"),
    "lbl.chance": ("chance", "azar"),
    "lbl.test_accuracy": ("test accuracy (mean ± std)", "precisión de prueba (media ± desv.)"),
    "lbl.sens_title": ("adding problem, T = {T} (trained)", "problema de la suma, T = {T} (entrenada)"),
    "lbl.log10_sens": ("log10 ‖∂ŷ/∂s_k‖", "log10 ‖∂ŷ/∂s_k‖"),
    "fig.vanishing_grad_per_step": (
        "The gradient of one loss at step T as it travels back to step k, one panel per cell, one curve per spectral "
        "radius (log scale, mean over the random networks). Look at the slope: falling lines vanish, rising ones "
        "explode.",
        "El gradiente de una pérdida en el paso T mientras viaja hacia atrás hasta el paso k, un panel por celda, una "
        "curva por radio espectral (escala logarítmica, media sobre las redes aleatorias). Mire la pendiente: las "
        "líneas que bajan se desvanecen, las que suben explotan."),
    "alt.vanishing_grad_per_step": (
        "Line plots of log10 of the gradient norm against the step k, one panel per cell and one line per spectral "
        "radius.",
        "Gráficas de líneas del log10 de la norma del gradiente frente al paso k, un panel por celda y una línea por "
        "radio espectral."),
    "fig.vanishing_rate_vs_radius": (
        "The per-step factor γ against the spectral radius of W_hh (error bars: std over random networks). Above the "
        "dashed line (γ = 1) the gradient grows going back in time, below it shrinks.",
        "El factor por paso γ frente al radio espectral de W_hh (barras: desviación entre redes aleatorias). Por "
        "encima de la línea discontinua (γ = 1) el gradiente crece hacia atrás en el tiempo; por debajo, mengua."),
    "alt.vanishing_rate_vs_radius": ("Gradient factor per step against spectral radius, one line per cell.",
                                     "Factor del gradiente por paso frente al radio espectral, una línea por celda."),
    "fig.vanishing_ratio_vs_length": (
        "How many orders of magnitude separate the gradient at step 1 from the one at step T, against T.",
        "Cuántos órdenes de magnitud separan el gradiente en el paso 1 del del paso T, frente a T."),
    "alt.vanishing_ratio_vs_length": ("log10 of the first-to-last gradient ratio against sequence length, per cell.",
                                      "log10 del cociente del gradiente primero/último frente a la longitud, por celda."),
    "fig.vanishing_jacobian_maps": (
        "‖∂s_t/∂s_k‖ for every pair k ≤ t (colour: log10). Dark far from the diagonal: what happened long ago no "
        "longer moves the state.",
        "‖∂s_t/∂s_k‖ para cada par k ≤ t (color: log10). Oscuro lejos de la diagonal: lo que pasó hace mucho ya no "
        "mueve el estado."),
    "alt.vanishing_jacobian_maps": ("Grid of triangular heat maps, one per cell and spectral radius.",
                                    "Rejilla de mapas de calor triangulares, uno por celda y radio espectral."),
    "fig.vanishing_learning_vs_length": (
        "Test accuracy after training against the length of the dependency (mean ± std over seeds); the dashed line "
        "is chance. Gated cells should stay high where the tanh RNN falls to chance.",
        "Precisión de prueba tras entrenar frente a la longitud de la dependencia (media ± desviación entre "
        "semillas); la línea discontinua es el azar. Las celdas con compuertas deberían seguir arriba donde la RNN "
        "tanh cae al azar."),
    "alt.vanishing_learning_vs_length": ("Accuracy against sequence length with error bars, one line per cell.",
                                         "Precisión frente a la longitud con barras de error, una línea por celda."),
    "fig.vanishing_trained_sensitivity": (
        "After training: how much the prediction depends on the state at step k (log10, mean over seeds). A flat "
        "curve reaches back to step 1; a falling one has forgotten it.",
        "Tras entrenar: cuánto depende la predicción del estado en el paso k (log10, media entre semillas). Una curva "
        "plana llega hasta el paso 1; una que baja lo ha olvidado."),
    "alt.vanishing_trained_sensitivity": ("log10 sensitivity of the prediction against step k, one panel per length.",
                                          "log10 de la sensibilidad de la predicción frente al paso k, un panel por "
                                          "longitud."),
    "col.cell": ("cell", "celda"),
    "col.rho": ("ρ", "ρ"),
    "col.T": ("T", "T"),
    "col.draws": ("networks", "redes"),
    "col.log10_ratio": ("log10 first/last", "log10 primero/último"),
    "col.log10_ratio_std": ("± std", "± desv."),
    "col.rate_per_step": ("γ per step", "γ por paso"),
    "col.rate_std": ("± std", "± desv."),
    "col.mean_act_deriv": ("mean f′(a)", "media f′(a)"),
    "col.task": ("task", "tarea"),
    "col.lr": ("learning rate", "tasa de aprendizaje"),
    "col.seeds": ("seeds", "semillas"),
    "col.seed": ("seed", "semilla"),
    "col.accuracy": ("accuracy", "precisión"),
    "col.accuracy_mean": ("accuracy", "precisión"),
    "col.accuracy_std": ("± std", "± desv."),
    "col.mse": ("MSE", "MSE"),
    "col.mse_mean": ("MSE", "MSE"),
    "col.mse_std": ("± std", "± desv."),
    "col.chance_accuracy": ("chance", "azar"),
    "col.solved": ("seeds above 2× chance", "semillas sobre 2× azar"),
    "col.seconds": ("seconds", "segundos"),
}


# -- batch-size ----------------------------------------------------------------------------------
_BATCH: dict[str, tuple[str, str]] = {
    "batch-size.title": ("Mini-batch size: from SGD to full batch", "Tamaño del mini-lote: de SGD al lote completo"),
    "batch-size.setup": (
        "Seed 001, exercise 4. An MLP [2, 32, 32, 2] (tanh) on two moons (noise 0.2; 512 train, 128 validation "
        "points), cross-entropy, plain SGD with the same learning rate for every batch size, the same number of "
        "epochs; batch size 1 is stochastic gradient descent, the largest is the whole training set. Several seeds "
        "per batch size (initial weights and order of the examples); losses are the mean of the last tenth of the "
        "epochs.",
        "Semilla 001, ejercicio 4. Un MLP [2, 32, 32, 2] (tanh) sobre dos lunas (ruido 0.2; 512 puntos de "
        "entrenamiento, 128 de validación), entropía cruzada, SGD simple con la misma tasa de aprendizaje para todos "
        "los tamaños de lote y el mismo número de épocas; el lote de 1 es descenso de gradiente estocástico y el "
        "mayor es todo el conjunto de entrenamiento. Varias semillas por tamaño de lote (pesos iniciales y orden de "
        "los ejemplos); las pérdidas son la media del último décimo de las épocas."),
    "batch-size.c.best": ("After {epochs} epochs with the same learning rate, the lowest validation loss is with "
                          "B = {bs}: {v} (mean ± std over {n} seeds).",
                          "Tras {epochs} épocas con la misma tasa de aprendizaje, la menor pérdida de validación es "
                          "con B = {bs}: {v} (media ± desviación sobre {n} semillas)."),
    "batch-size.c.ties": ("No clear difference from it (within the spreads): {items}.",
                          "Sin diferencia clara con ella (dentro de las dispersiones): {items}."),
    "batch-size.c.no_ties": ("Every other batch size is clearly worse (by more than the spreads).",
                             "Todos los demás tamaños de lote son claramente peores (por más que las dispersiones)."),
    "batch-size.c.full": ("The full batch (B = {full}) ends at {v} after only {steps} steps.",
                          "El lote completo (B = {full}) termina en {v} tras solo {steps} pasos."),
    "batch-size.c.time": ("Per epoch, B = 1 takes {t1} s and the full batch {tf} s: {ratio}× faster per epoch.",
                          "Por época, B = 1 tarda {t1} s y el lote completo {tf} s: {ratio}× más rápido por época."),
    "batch-size.c.noise": ("Noise of the per-step training loss in the last epoch (std): {n1} at B = 1, {n2} at "
                           "B = {b2}.",
                           "Ruido de la pérdida de entrenamiento por paso en la última época (desviación): {n1} con "
                           "B = 1, {n2} con B = {b2}."),
    "batch-size.c.reach": ("Validation loss below {target} first reached after: {items}.",
                           "Pérdida de validación por debajo de {target} alcanzada por primera vez tras: {items}."),
    "batch-size.c.fastest": ("Fastest there in wall time: B = {bs} ({t} s).",
                             "El más rápido en llegar en tiempo real: B = {bs} ({t} s)."),
    "lbl.epoch": ("epoch", "época"),
    "lbl.step_loss": ("training loss per step", "pérdida de entrenamiento por paso"),
    "lbl.val_loss": ("validation loss", "pérdida de validación"),
    "lbl.wall_s": ("wall time (s)", "tiempo real (s)"),
    "lbl.stability": ("stability", "estabilidad"),
    "lbl.per_epoch": ("per epoch", "por época"),
    "lbl.per_second": ("per second", "por segundo"),
    "lbl.batch_legend": ("batch size B", "tamaño del lote B"),
    "fig.batch_size_curves": (
        "Left: the training loss of every step (first seed) — small batches are noisy. Middle: validation loss per "
        "epoch. Right: the same against wall time — what a batch size costs.",
        "Izquierda: la pérdida de entrenamiento de cada paso (primera semilla) — los lotes pequeños son ruidosos. "
        "Centro: pérdida de validación por época. Derecha: lo mismo frente al tiempo real — lo que cuesta cada "
        "tamaño de lote."),
    "alt.batch_size_curves": ("Three panels of loss curves, one line per batch size.",
                              "Tres paneles de curvas de pérdida, una línea por tamaño de lote."),
    "col.batch_size": ("batch size", "tamaño del lote"),
    "col.steps_per_epoch": ("steps per epoch", "pasos por época"),
    "col.steps": ("steps", "pasos"),
    "col.val_loss_mean": ("validation loss", "pérdida de validación"),
    "col.val_loss_std": ("± std", "± desv."),
    "col.val_loss": ("validation loss", "pérdida de validación"),
    "col.val_accuracy": ("validation accuracy", "precisión de validación"),
    "col.val_accuracy_mean": ("validation accuracy", "precisión de validación"),
    "col.val_accuracy_std": ("± std", "± desv."),
    "col.seconds_per_epoch": ("s per epoch", "s por época"),
    "col.step_loss_std": ("noise of the step loss", "ruido de la pérdida por paso"),
    "col.reached": ("seeds reaching the target", "semillas que llegan al objetivo"),
    "col.epochs_to_target_mean": ("epochs to the target", "épocas hasta el objetivo"),
    "col.epochs_to_target": ("epochs to the target", "épocas hasta el objetivo"),
    "col.seconds_to_target_mean": ("s to the target", "s hasta el objetivo"),
}


# -- regularization ------------------------------------------------------------------------------
_REG: dict[str, tuple[str, str]] = {
    "regularization.title": ("L1 and L2 regularization on a noisy set", "Regularización L1 y L2 en un conjunto con ruido"),
    "regularization.setup": (
        "Seed 001, exercise 3. An over-sized MLP [2, 64, 64, 2] (ReLU) on 200 two-moons points with noise 0.35 "
        "(100 train, 100 validation), cross-entropy, SGD (lr 0.05, momentum 0.9), mini-batches of 32. Penalty on the "
        "weight matrices: L1 R = λΣ|w| or L2 R = (λ/2)Σw², at the same strengths λ; 'near zero' means |w| < 0.01. "
        "Several seeds per configuration (mean ± std); the validation loss is the mean of the last tenth of the "
        "epochs.",
        "Semilla 001, ejercicio 3. Un MLP sobredimensionado [2, 64, 64, 2] (ReLU) sobre 200 puntos de dos lunas con "
        "ruido 0.35 (100 de entrenamiento, 100 de validación), entropía cruzada, SGD (lr 0.05, momento 0.9), "
        "mini-lotes de 32. Penalización en las matrices de pesos: L1 R = λΣ|w| o L2 R = (λ/2)Σw², con las mismas "
        "intensidades λ; 'casi cero' significa |w| < 0.01. Varias semillas por configuración (media ± desviación); la "
        "pérdida de validación es la media del último décimo de las épocas."),
    "regularization.c.none": ("No penalty ({n} seeds): train loss {tr_}, validation loss {va}, gap {gap}.",
                              "Sin penalización ({n} semillas): pérdida de entrenamiento {tr_}, de validación {va}, "
                              "brecha {gap}."),
    "regularization.c.best": ("Best validation loss: {name}, {va} (gap {gap}) — clearly better than no penalty.",
                              "Mejor pérdida de validación: {name}, {va} (brecha {gap}) — claramente mejor que sin "
                              "penalización."),
    "regularization.c.best_unclear": ("Lowest validation loss: {name}, {va}, against {none} without a penalty — no clear "
                                      "difference (within the spreads).",
                                      "Menor pérdida de validación: {name}, {va}, frente a {none} sin penalización — "
                                      "sin diferencia clara (dentro de las dispersiones)."),
    "regularization.c.best_none": ("No penalty beat the unregularised network on validation loss ({va}).",
                                   "Ninguna penalización mejoró la pérdida de validación de la red sin regularizar "
                                   "({va})."),
    "regularization.c.l1l2": ("Best L1: {l1} (λ = {l1lam}); best L2: {l2} (λ = {l2lam}).",
                              "Mejor L1: {l1} (λ = {l1lam}); mejor L2: {l2} (λ = {l2lam})."),
    "regularization.c.l1l2_same": ("Best L1 {l1} (λ = {l1lam}) and best L2 {l2} (λ = {l2lam}): no clear difference.",
                                   "Mejor L1 {l1} (λ = {l1lam}) y mejor L2 {l2} (λ = {l2lam}): sin diferencia clara."),
    "regularization.c.sparse": ("Weights near zero: L1 leaves clearly more than L2 at every strength — {items}.",
                                "Pesos casi en cero: L1 deja claramente más que L2 con cada intensidad — {items}."),
    "regularization.c.sparse_not": ("Weights near zero: L1 leaves clearly more than L2 at {k} of {n} strengths — "
                                    "{items}.",
                                    "Pesos casi en cero: L1 deja claramente más que L2 en {k} de {n} intensidades — "
                                    "{items}."),
    "lbl.pen_val": ("{p} validation", "{p} validación"),
    "lbl.pen_train": ("{p} train", "{p} entrenamiento"),
    "lbl.none_val": ("no penalty, validation", "sin penalización, validación"),
    "lbl.none_train": ("no penalty, train", "sin penalización, entrenamiento"),
    "lbl.no_penalty": ("no penalty", "sin penalización"),
    "lbl.loss_no_penalty": ("loss (without the penalty term)", "pérdida (sin el término de penalización)"),
    "lbl.train_vs_val": ("train vs validation", "entrenamiento frente a validación"),
    "lbl.near_zero": ("fraction of |w| < 0.01", "fracción de |w| < 0.01"),
    "lbl.sparsity": ("sparsity", "dispersión de los pesos (ceros)"),
    "lbl.n_weights": ("number of weights", "número de pesos"),
    "lbl.weight_magnitudes": ("weight magnitudes", "magnitud de los pesos"),
    "lbl.boundary_title": ("{name}: validation loss {v}", "{name}: pérdida de validación {v}"),
    "fig.regularization_losses": (
        "Left: train (dotted) and validation (solid) loss against the strength λ (mean ± std over seeds); the black "
        "lines are the network without a penalty. Right: the fraction of weights near zero — L1 drives weights to "
        "exactly zero, L2 only shrinks them.",
        "Izquierda: pérdida de entrenamiento (punteada) y de validación (continua) frente a la intensidad λ (media ± "
        "desviación entre semillas); las líneas negras son la red sin penalización. Derecha: la fracción de pesos "
        "casi en cero — L1 lleva pesos exactamente a cero, L2 solo los encoge."),
    "alt.regularization_losses": ("Two panels: loss against λ, and fraction of near-zero weights against λ, for L1 "
                                  "and L2.",
                                  "Dos paneles: pérdida frente a λ y fracción de pesos casi nulos frente a λ, para L1 "
                                  "y L2."),
    "fig.regularization_curves": ("Validation loss during training (first seed): without a penalty it rises again "
                                  "as the network over-fits.",
                                  "Pérdida de validación durante el entrenamiento (primera semilla): sin penalización "
                                  "vuelve a subir cuando la red se sobreajusta."),
    "alt.regularization_curves": ("Three panels of validation-loss curves: no penalty, L1, L2.",
                                  "Tres paneles de curvas de pérdida de validación: sin penalización, L1, L2."),
    "fig.regularization_weights": ("Histogram of log10 |w| at the strongest λ: L1 piles weights up at the far left "
                                   "(exact zeros), L2 moves the whole distribution left.",
                                   "Histograma de log10 |w| con la mayor λ: L1 amontona pesos a la izquierda (ceros "
                                   "exactos), L2 desplaza toda la distribución a la izquierda."),
    "alt.regularization_weights": ("Histogram of weight magnitudes for no penalty, L1 and L2.",
                                   "Histograma de la magnitud de los pesos sin penalización, con L1 y con L2."),
    "fig.regularization_boundaries": ("Decision boundaries (first seed) without a penalty and with the best L1 and "
                                      "L2: the penalised ones are smoother.",
                                      "Fronteras de decisión (primera semilla) sin penalización y con la mejor L1 y "
                                      "L2: las penalizadas son más suaves."),
    "alt.regularization_boundaries": ("Three maps of class probability with the training points and the 0.5 contour.",
                                      "Tres mapas de probabilidad de clase con los puntos de entrenamiento y el "
                                      "contorno 0.5."),
    "col.penalty": ("penalty", "penalización"),
    "col.strength": ("λ", "λ"),
    "col.train_loss": ("train loss", "pérdida de entrenamiento"),
    "col.train_loss_mean": ("train loss", "pérdida de entrenamiento"),
    "col.train_loss_std": ("± std", "± desv."),
    "col.gap": ("gap", "brecha"),
    "col.gap_mean": ("gap", "brecha"),
    "col.gap_std": ("± std", "± desv."),
    "col.weight_norm": ("‖w‖", "‖w‖"),
    "col.weight_norm_mean": ("‖w‖", "‖w‖"),
    "col.weight_norm_std": ("± std", "± desv."),
    "col.near_zero_1e-2": ("|w| < 0.01", "|w| < 0.01"),
    "col.near_zero_1e-2_mean": ("|w| < 0.01", "|w| < 0.01"),
    "col.near_zero_1e-2_std": ("± std", "± desv."),
    "col.near_zero_1e-3": ("|w| < 0.001", "|w| < 0.001"),
}


# -- activations ---------------------------------------------------------------------------------
_ACT: dict[str, tuple[str, str]] = {
    "activations.title": ("Activation functions: convergence, accuracy and gradient flow",
                          "Funciones de activación: convergencia, precisión y flujo del gradiente"),
    "activations.setup": (
        "Seed 001, exercise 2 and the BPTT exercise 5. An MLP [2, 32, 32, 32, 2] (tanh / sigmoid / ReLU / leaky ReLU "
        "hidden units) on the two-spirals set (75 % train, 25 % validation), cross-entropy, SGD (momentum 0.9) with "
        "mini-batches of 32; and an Elman RNN (tanh / sigmoid / ReLU, 32 units) + linear read-out forecasting a noisy "
        "sine one step ahead at every step (T = 30), MSE, Adam. Several seeds per configuration: mean ± standard "
        "deviation; final values are the mean of the last tenth of training.",
        "Semilla 001, ejercicio 2 y el ejercicio 5 de BPTT. Un MLP [2, 32, 32, 32, 2] (unidades ocultas tanh / "
        "sigmoide / ReLU / ReLU con fuga) sobre el conjunto de dos espirales (75 % entrenamiento, 25 % validación), "
        "entropía cruzada, SGD (momento 0.9) con mini-lotes de 32; y una RNN de Elman (tanh / sigmoide / ReLU, 32 "
        "unidades) + lectura lineal que pronostica un seno con ruido un paso adelante en cada paso (T = 30), MSE, "
        "Adam. Varias semillas por configuración: media ± desviación estándar; los valores finales son la media del "
        "último décimo del entrenamiento."),
    "activations.c.mlp_speed": ("MLP on the spirals, epochs to {acc} training accuracy ({n} seeds; seeds that got "
                                "there): {items}.",
                                "MLP en las espirales, épocas hasta el {acc} de precisión de entrenamiento ({n} "
                                "semillas; semillas que llegaron): {items}."),
    "activations.c.mlp_fastest": ("{best} gets there clearly fastest.", "{best} llega claramente antes."),
    "activations.c.mlp_fastest_ties": ("{best} gets there first, with no clear difference from {ties}.",
                                       "{best} llega primero, sin diferencia clara con {ties}."),
    "activations.c.val": ("Validation accuracy, mean of the last tenth of the epochs (not one epoch's value): {items}.",
                          "Precisión de validación, media del último décimo de las épocas (no el valor de una sola "
                          "época): {items}."),
    "activations.c.val_best": ("{best} is clearly the most accurate.", "{best} es claramente la más precisa."),
    "activations.c.val_ties": ("Most accurate: {best}, with no clear difference from {ties}.",
                               "La más precisa: {best}, sin diferencia clara con {ties}."),
    "activations.c.ratio": ("Gradient reaching the first weight matrix relative to the last (mean over training): "
                            "{items} — {low} sends the least signal back to the first layer.",
                            "Gradiente que llega a la primera matriz de pesos relativo a la última (media en el "
                            "entrenamiento): {items} — {low} es la que menos señal devuelve a la primera capa."),
    "activations.c.rnn": ("RNN forecasting the sine (T = {T}), test MSE over the last tenth of training: {items} "
                          "(predicting the mean gives {chance}).",
                          "RNN que pronostica el seno (T = {T}), MSE de prueba en el último décimo del entrenamiento: "
                          "{items} (predecir la media da {chance})."),
    "activations.c.rnn_best": ("{best} is clearly the best RNN.", "{best} es claramente la mejor RNN."),
    "activations.c.rnn_ties": ("Best RNN: {best}, with no clear difference from {ties}.",
                               "Mejor RNN: {best}, sin diferencia clara con {ties}."),
    "activations.c.rnn_reach": ("Steps until the test MSE is first below {target}: {items}.",
                                "Pasos hasta que el MSE de prueba baja por primera vez de {target}: {items}."),
    "lbl.train_accuracy": ("training accuracy", "precisión de entrenamiento"),
    "lbl.mlp_spirals": ("MLP on the spirals (mean; band: min–max)", "MLP en las espirales (media; banda: mín–máx)"),
    "lbl.predict_mean": ("predicting the mean", "predecir la media"),
    "lbl.step": ("step", "paso"),
    "lbl.test_mse": ("test MSE", "MSE de prueba"),
    "lbl.rnn_sine": ("RNN, sine forecast, T = {T}", "RNN, pronóstico del seno, T = {T}"),
    "lbl.layer": ("layer {i}", "capa {i}"),
    "lbl.grad_per_layer": ("‖∂L/∂W‖ per layer", "‖∂L/∂W‖ por capa"),
    "lbl.spirals_data": ("two spirals (the data)", "dos espirales (los datos)"),
    "fig.activations_convergence": (
        "Left and middle: the MLP's training accuracy and validation loss per epoch (line: mean over seeds; band: "
        "min–max). Right: the RNN's test MSE while training; the dashed line is predicting the mean.",
        "Izquierda y centro: la precisión de entrenamiento y la pérdida de validación del MLP por época (línea: media "
        "entre semillas; banda: mín–máx). Derecha: el MSE de prueba de la RNN durante el entrenamiento; la línea "
        "discontinua es predecir la media."),
    "alt.activations_convergence": ("Three panels of training curves, one line per activation function.",
                                    "Tres paneles de curvas de entrenamiento, una línea por función de activación."),
    "fig.activations_layer_gradients": (
        "Gradient norm of each layer's weights during training (first seed), one panel per activation: with the "
        "sigmoid the first layer gets orders of magnitude less than the last.",
        "Norma del gradiente de los pesos de cada capa durante el entrenamiento (primera semilla), un panel por "
        "activación: con la sigmoide la primera capa recibe órdenes de magnitud menos que la última."),
    "alt.activations_layer_gradients": ("Per-layer gradient norms against epoch, one panel per activation.",
                                        "Normas del gradiente por capa frente a la época, un panel por activación."),
    "fig.activations_data": ("The two-spirals data set the MLP learns.", "El conjunto de dos espirales que aprende "
                             "el MLP."),
    "alt.activations_data": ("Scatter plot of two interleaved spirals in two colours.",
                             "Diagrama de dispersión de dos espirales entrelazadas en dos colores."),
    "col.model": ("model", "modelo"),
    "col.activation": ("activation", "activación"),
    "col.runs": ("seeds", "semillas"),
    "col.epochs_or_steps_to_target_mean": ("epochs (MLP) / steps (RNN) to the target",
                                           "épocas (MLP) / pasos (RNN) hasta el objetivo"),
    "col.epochs_or_steps_to_target_std": ("± std", "± desv."),
    "col.final_loss_mean": ("final loss", "pérdida final"),
    "col.final_loss_std": ("± std", "± desv."),
    "col.final_loss": ("final loss", "pérdida final"),
    "col.first_last_grad_ratio": ("gradient first/last layer", "gradiente primera/última capa"),
    "col.first_last_grad_ratio_std": ("± std", "± desv."),
    "col.to_target": ("epochs / steps to the target", "épocas / pasos hasta el objetivo"),
}


# -- lengths -------------------------------------------------------------------------------------
_LEN: dict[str, tuple[str, str]] = {
    "lengths.title": ("Variable-length sequences: lengths (masks) vs padding without masks",
                      "Secuencias de longitud variable: longitudes (máscaras) frente a relleno sin máscaras"),
    "lengths.setup": (
        "Seed 001, BPTT exercise 2 (sequences of variable length). Values U(0, 1) for ℓ ∈ [2, T] steps, zero-padded "
        "to T, target their mean (so where a sequence ends matters); an RNN (32 units) + linear read-out trained "
        "with Adam and MSE in three ways: with bptt's lengths (the state stops at each sequence's end), padded at "
        "the end without masks (read-out at T), padded at the front without masks. Every model is evaluated in all "
        "three ways; several seeds per configuration (mean ± std).",
        "Semilla 001, ejercicio 2 de BPTT (secuencias de longitud variable). Valores U(0, 1) durante ℓ ∈ [2, T] "
        "pasos, rellenados con ceros hasta T, objetivo su media (importa dónde termina cada secuencia); una RNN (32 "
        "unidades) + lectura lineal entrenada con Adam y MSE de tres formas: con las longitudes de bptt (el estado "
        "se detiene al final de cada secuencia), rellenada al final sin máscaras (lectura en T), rellenada al "
        "principio sin máscaras. Cada modelo se evalúa de las tres formas; varias semillas por configuración (media "
        "± desviación)."),
    "lengths.c.train": ("{cell}, test MSE ({n} seeds): trained and evaluated with lengths {a}; padded at the end "
                        "without masks {b} ({rb}×); padded at the front {c} ({rc}×).",
                        "{cell}, MSE de prueba ({n} semillas): entrenada y evaluada con longitudes {a}; con relleno al "
                        "final sin máscaras {b} ({rb}×); con relleno al principio {c} ({rc}×)."),
    "lengths.c.train_clear": ("Both ways without masks are clearly worse.",
                              "Las dos formas sin máscaras son claramente peores."),
    "lengths.c.train_one": ("Only one of the two ways without masks is clearly worse; the other is within the "
                            "spreads.",
                            "Solo una de las dos formas sin máscaras es claramente peor; la otra queda dentro de las "
                            "dispersiones."),
    "lengths.c.train_none": ("Neither way without masks is clearly worse (within the spreads).",
                             "Ninguna forma sin máscaras es claramente peor (dentro de las dispersiones)."),
    "lengths.c.run": ("{cell}: running the lengths-trained model over the padding multiplies its error by {rx} (MSE "
                      "{x}), worst on the most padded sequences ({xs} against {xl}).",
                      "{cell}: ejecutar sobre el relleno el modelo entrenado con longitudes multiplica su error por "
                      "{rx} (MSE {x}), sobre todo en las secuencias más rellenadas ({xs} frente a {xl})."),
    "lengths.c.base": ("Predicting the mean gives MSE {m}.", "Predecir la media da un MSE de {m}."),
    "lbl.lengths_run_without": ("trained with lengths, run without", "entrenada con longitudes, ejecutada sin ellas"),
    "lbl.padding_steps": ("padding steps T − ℓ", "pasos de relleno T − ℓ"),
    "lbl.evaluated_with": ("evaluated with", "evaluada con"),
    "lbl.trained_with": ("trained with", "entrenada con"),
    "lbl.matrix_title": ("{cell}: test MSE", "{cell}: MSE de prueba"),
    "fig.lengths_error_by_padding": (
        "Test MSE against the amount of padding (mean over seeds): with lengths the error stays flat; a model run "
        "over the padding gets worse the more padding there is.",
        "MSE de prueba frente a la cantidad de relleno (media entre semillas): con longitudes el error se mantiene "
        "plano; un modelo ejecutado sobre el relleno empeora cuanto más relleno hay."),
    "alt.lengths_error_by_padding": ("Line plots of test MSE against padding steps, one panel per cell.",
                                     "Gráficas de líneas del MSE de prueba frente a los pasos de relleno, un panel por "
                                     "celda."),
    "fig.lengths_matrix": ("Test MSE for every way of training (rows) and of running (columns) the model; the "
                           "diagonal is each model used as trained.",
                           "MSE de prueba para cada forma de entrenar (filas) y de ejecutar (columnas) el modelo; la "
                           "diagonal es cada modelo usado como se entrenó."),
    "alt.lengths_matrix": ("Three-by-three matrices of test MSE with the values written in the cells.",
                           "Matrices de tres por tres del MSE de prueba con los valores escritos en las casillas."),
    "col.trained_with": ("trained with", "entrenada con"),
    "col.evaluated_with": ("evaluated with", "evaluada con"),
    "col.mse_short": ("MSE, short sequences", "MSE, secuencias cortas"),
    "col.mse_long": ("MSE, long sequences", "MSE, secuencias largas"),
    "col.predict_mean_mse": ("MSE of predicting the mean", "MSE de predecir la media"),
}


# -- search --------------------------------------------------------------------------------------
_SEARCH: dict[str, tuple[str, str]] = {
    "search.title": ("Hyper-parameter search: grid, random and TPE (Optuna)",
                     "Búsqueda de hiperparámetros: cuadrícula, aleatoria y TPE (Optuna)"),
    "search.setup": (
        "Seed 001, exercise 5. Learning rate (log-uniform 1e-3 … 1), epochs and hidden size of an MLP [2, h, h, 2] "
        "(tanh) on two spirals (300 train, 100 validation points), SGD with momentum 0.9, mini-batches of 32; the "
        "objective is the validation loss after training. Optuna's GridSampler, RandomSampler and TPESampler get the "
        "same number of trials, once per seed (data set, initial weights and sampler follow the seed).",
        "Semilla 001, ejercicio 5. Tasa de aprendizaje (log-uniforme 1e-3 … 1), épocas y tamaño oculto de un MLP "
        "[2, h, h, 2] (tanh) sobre dos espirales (300 puntos de entrenamiento, 100 de validación), SGD con momento "
        "0.9, mini-lotes de 32; el objetivo es la pérdida de validación tras entrenar. GridSampler, RandomSampler y "
        "TPESampler de Optuna reciben el mismo número de ensayos, una vez por semilla (datos, pesos iniciales y "
        "muestreador siguen la semilla)."),
    "search.c.best": ("Best validation loss after {n} trials (mean ± std over {k} seeds): {items}.",
                      "Mejor pérdida de validación tras {n} ensayos (media ± desviación sobre {k} semillas): {items}."),
    "search.c.clear": ("{s} is clearly the best sampler here.", "{s} es claramente el mejor muestreador aquí."),
    "search.c.ties": ("Lowest: {s}, with no clear difference from {ties}.",
                      "El menor: {s}, sin diferencia clara con {ties}."),
    "search.c.winner": ("Best trial overall: {s} with learning rate {lr}, {ep} epochs, hidden size {h} (validation "
                        "accuracy {acc}).",
                        "Mejor ensayo en total: {s} con tasa de aprendizaje {lr}, {ep} épocas, tamaño oculto {h} "
                        "(precisión de validación {acc})."),
    "search.c.imp": ("Most important hyper-parameter (Optuna, {s} study of the first seed): {p} ({v}).",
                     "Hiperparámetro más importante (Optuna, estudio {s} de la primera semilla): {p} ({v})."),
    "search.c.diverged": ("{k} trial(s) diverged (too large a learning rate).",
                          "{k} ensayo(s) divergieron (tasa de aprendizaje demasiado grande)."),
    "lbl.trial": ("trial", "ensayo"),
    "lbl.best_so_far": ("best validation loss so far", "mejor pérdida de validación hasta ahora"),
    "lbl.search_progress": ("search progress (band: seeds min–max)", "progreso de la búsqueda (banda: mín–máx)"),
    "lbl.learning_rate": ("learning rate", "tasa de aprendizaje"),
    "lbl.every_trial": ("every trial (size ∝ epochs)", "cada ensayo (tamaño ∝ épocas)"),
    "lbl.importance": ("importance (Optuna)", "importancia (Optuna)"),
    "lbl.importance_title": ("hyper-parameter importance", "importancia de los hiperparámetros"),
    "fig.search_trials": (
        "Left: the best validation loss found so far against the number of trials (geometric mean over seeds, band: "
        "min–max). Right: every trial's validation loss against its learning rate — the learning rate decides most.",
        "Izquierda: la mejor pérdida de validación hallada hasta ahora frente al número de ensayos (media geométrica "
        "entre semillas, banda: mín–máx). Derecha: la pérdida de validación de cada ensayo frente a su tasa de "
        "aprendizaje — la tasa de aprendizaje decide casi todo."),
    "alt.search_trials": ("Two panels: best-so-far curves per sampler, and a scatter of loss against learning rate.",
                          "Dos paneles: curvas de lo mejor hasta ahora por muestreador y una nube de pérdida frente a "
                          "tasa de aprendizaje."),
    "fig.search_importance": ("How much of the variation in validation loss each hyper-parameter explains (Optuna's "
                              "fANOVA importance, first seed).",
                              "Cuánta de la variación de la pérdida de validación explica cada hiperparámetro "
                              "(importancia fANOVA de Optuna, primera semilla)."),
    "alt.search_importance": ("Bar chart of hyper-parameter importance per sampler.",
                              "Gráfico de barras de la importancia de los hiperparámetros por muestreador."),
    "col.sampler": ("sampler", "muestreador"),
    "col.trial": ("trial", "ensayo"),
    "col.epochs": ("epochs", "épocas"),
    "col.hidden": ("hidden size", "tamaño oculto"),
    "col.trials": ("trials", "ensayos"),
    "col.best_val_loss": ("best validation loss", "mejor pérdida de validación"),
    "col.best_val_accuracy": ("its validation accuracy", "su precisión de validación"),
    "col.best_val_loss_mean": ("best validation loss", "mejor pérdida de validación"),
    "col.best_val_loss_std": ("± std", "± desv."),
    "col.best_val_accuracy_mean": ("its validation accuracy", "su precisión de validación"),
    "col.best_val_accuracy_std": ("± std", "± desv."),
}


# -- costs ---------------------------------------------------------------------------------------
_COSTS: dict[str, tuple[str, str]] = {
    "costs.title": ("What BPTT costs, and what replaces it: checkpointing, truncation, RTRL",
                    "Lo que cuesta BPTT y lo que lo sustituye: puntos de control, truncado, RTRL"),
    "costs.setup": (
        "One gradient of one LSTM layer (small H, float64) for a random ∂L/∂h_t at every step, by four methods: full "
        "BPTT (every step's activations kept), checkpointed BPTT (the state every k = ⌈√T⌉ steps, each segment "
        "recomputed in the backward), truncated BPTT (the gradient cut every k steps) and RTRL (the sensitivity "
        "∂s_t/∂θ carried forward, O(H²·P) per step: stopped at a T where it gets too slow). Time: best of a few "
        "runs; memory: tracemalloc peak of what the method allocates. Then the bias of truncation against k, and "
        "the delayed echo y_t = x_{t−d} learned from the same episodes by online RTRL (an update every step), "
        "truncated BPTT with k below and above the delay d, and full BPTT (one update per episode), with Adam. "
        "Several seeds (mean ± std).",
        "Un gradiente de una capa LSTM (H pequeño, float64) para un ∂L/∂h_t aleatorio en cada paso, con cuatro "
        "métodos: BPTT completo (guarda las activaciones de cada paso), BPTT con puntos de control (el estado cada k "
        "= ⌈√T⌉ pasos; cada segmento se recalcula en la pasada hacia atrás), BPTT truncado (el gradiente se corta "
        "cada k pasos) y RTRL (la sensibilidad ∂s_t/∂θ llevada hacia delante, O(H²·P) por paso: se detiene en una T "
        "donde se vuelve demasiado lento). Tiempo: el mejor de unas pocas ejecuciones; memoria: pico de tracemalloc "
        "de lo que reserva el método. Después, el sesgo del truncado frente a k, y el eco retardado y_t = x_{t−d} "
        "aprendido con los mismos episodios por RTRL en línea (una actualización por paso), BPTT truncado con k "
        "menor y mayor que la demora d, y BPTT completo (una actualización por episodio), con Adam. Varias semillas "
        "(media ± desviación)."),
    "costs.c.memory": (
        "Peak memory at T = {T} ({n} seeds): full BPTT {f} MiB, checkpointed (k = {kc}) {c} MiB ({rc}× less), "
        "truncated (k = {kt}) {t} MiB.",
        "Memoria pico en T = {T} ({n} semillas): BPTT completo {f} MiB, con puntos de control (k = {kc}) {c} MiB "
        "({rc}× menos), truncado (k = {kt}) {t} MiB."),
    "costs.c.time": (
        "Time of one gradient at T = {T}: full {f} s, checkpointed {c} s ({rc}× full: the extra forward; {verdict}), "
        "truncated {t} s.",
        "Tiempo de un gradiente en T = {T}: completo {f} s, con puntos de control {c} s ({rc}× el completo: la "
        "pasada hacia delante de más; {verdict}), truncado {t} s."),
    "costs.c.clearly_slower": ("clearly slower", "claramente más lento"),
    "costs.c.clearly_faster": ("clearly faster", "claramente más rápido"),
    "costs.c.no_clear": ("no clear difference", "sin diferencia clara"),
    "costs.c.rtrl": (
        "RTRL (H = {H}) at T = {T}: {r} s against full BPTT's {f} s ({ratio}×, {verdict}); peak memory {mr} MiB "
        "against {mf} MiB.",
        "RTRL (H = {H}) en T = {T}: {r} s frente a {f} s del BPTT completo ({ratio}×, {verdict}); memoria pico "
        "{mr} MiB frente a {mf} MiB."),
    "costs.c.rtrl_stopped": ("RTRL was stopped at T = {T}: each step costs O(H²·P), so longer runs take too long.",
                             "RTRL se detuvo en T = {T}: cada paso cuesta O(H²·P), así que más pasos tardan "
                             "demasiado."),
    "costs.c.hidden": (
        "Time per step (T = {T}) from H = {h0} to H = {h1}: RTRL {r0} → {r1} ms, full BPTT {f0} → {f1} ms; "
        "log–log slope from H = {ha} to {h1}: RTRL {sr} (H²·P ∝ H⁴ predicts 4), full BPTT {sf}.",
        "Tiempo por paso (T = {T}) de H = {h0} a H = {h1}: RTRL {r0} → {r1} ms, BPTT completo {f0} → {f1} ms; "
        "pendiente log–log de H = {ha} a {h1}: RTRL {sr} (H²·P ∝ H⁴ predice 4), BPTT completo {sf}."),
    "costs.c.exact": (
        "Checkpointed BPTT and RTRL give full BPTT's gradient: largest relative difference {c} and {r} (rounding); "
        "truncation (k = {kt}) is off by {t} at T = {T}.",
        "BPTT con puntos de control y RTRL dan el gradiente del BPTT completo: mayor diferencia relativa {c} y {r} "
        "(redondeo); el truncado (k = {kt}) se desvía {t} en T = {T}."),
    "costs.c.truncation": ("Truncated gradient against the true one (T = {T}, {n} seeds), cosine (relative error): "
                           "{items}.",
                           "Gradiente truncado frente al verdadero (T = {T}, {n} semillas), coseno (error relativo): "
                           "{items}."),
    "costs.c.truncation_099": ("The cosine stays at or above 0.99 (beyond its spread) from k = {k} (of T = {T}).",
                               "El coseno queda en 0.99 o más (más allá de su dispersión) desde k = {k} (de T = {T})."),
    "costs.c.training": ("Delayed echo, delay {d}, {steps} steps seen, {n} seeds, test accuracy: {items}.",
                         "Eco retardado, demora {d}, {steps} pasos vistos, {n} semillas, precisión de prueba: "
                         "{items}."),
    "costs.c.best": ("Best: {best}; clearly below it: {below}; no clear difference from it: {tie}.",
                     "Mejor: {best}; claramente por debajo: {below}; sin diferencia clara con él: {tie}."),
    "costs.c.blind_chance": ("Truncation with k = {k} < delay {d} stays at chance ({a}): its gradient never links y_t "
                             "to x_{{t−d}}.",
                             "El truncado con k = {k} < demora {d} se queda en el azar ({a}): su gradiente nunca une "
                             "y_t con x_{{t−d}}."),
    "costs.c.blind_learned": ("Truncation with k = {k} < delay {d} still got above chance ({a}): the forward carries "
                              "the state across chunks, and some of it was learned anyway.",
                              "El truncado con k = {k} < demora {d} superó aun así el azar ({a}): la pasada hacia "
                              "delante lleva el estado entre trozos y algo se aprendió de todos modos."),
    "costs.c.cpu": ("CPU time of training (updates): {items}.",
                    "Tiempo de CPU del entrenamiento (actualizaciones): {items}."),
    "progress.costs: time and memory": ("costs: time and memory", "costes: tiempo y memoria"),
    "progress.costs: truncation": ("costs: truncation", "costes: truncado"),
    "progress.costs: training": ("costs: training", "costes: entrenamiento"),
    "val.full": ("full BPTT", "BPTT completo"),
    "val.checkpoint": ("checkpointed BPTT", "BPTT con puntos de control"),
    "val.truncated": ("truncated BPTT", "BPTT truncado"),
    "val.rtrl": ("RTRL", "RTRL"),
    "lbl.costs_seconds": ("time of one gradient (s)", "tiempo de un gradiente (s)"),
    "lbl.costs_peak": ("peak memory (MiB, tracemalloc)", "memoria pico (MiB, tracemalloc)"),
    "lbl.costs_time_title": ("time against T (mean ± std)", "tiempo frente a T (media ± desv.)"),
    "lbl.costs_memory_title": ("peak memory against T ({cell}, H = {H})", "memoria pico frente a T ({cell}, H = {H})"),
    "lbl.costs_rtrl_stopped": ("RTRL stopped at T = {T}\n(O(H²·P) per step, H = {H})",
                               "RTRL detenido en T = {T}\n(O(H²·P) por paso, H = {H})"),
    "lbl.costs_H": ("hidden size H", "tamaño oculto H"),
    "lbl.costs_ms_per_step": ("time per step (ms)", "tiempo por paso (ms)"),
    "lbl.costs_hidden_title": ("time per step against H (T = {T})", "tiempo por paso frente a H (T = {T})"),
    "lbl.costs_k": ("truncation length k", "longitud de truncado k"),
    "lbl.costs_cosine": ("cosine with the true gradient", "coseno con el gradiente verdadero"),
    "lbl.costs_relative_error": ("relative error ‖g_k − g‖ / ‖g‖", "error relativo ‖g_k − g‖ / ‖g‖"),
    "lbl.costs_trunc_title": ("T = {T}, mean ± std over {n} seeds", "T = {T}, media ± desv. en {n} semillas"),
    "lbl.costs_steps_seen": ("steps of the stream seen", "pasos del flujo vistos"),
    "lbl.costs_cpu": ("CPU time of training (s)", "tiempo de CPU del entrenamiento (s)"),
    "lbl.costs_train_title": ("delayed echo, delay {d}, {n} seeds", "eco retardado, demora {d}, {n} semillas"),
    "fig.costs_scaling": (
        "Time (left) and peak memory (middle) of one gradient against the sequence length, and time per step "
        "against the hidden size (right), all axes logarithmic. "
        "Full BPTT's memory grows in proportion to T; checkpointing keeps the same slope at a lower level (the "
        "outputs are still kept) for about one extra forward of time; RTRL's time per step is far higher (its line stops where the caption "
        "beside it says, when longer runs would take too long), and it grows much faster with H than BPTT's.",
        "Tiempo (izquierda) y memoria pico (centro) de un gradiente frente a la longitud de la secuencia, y tiempo "
        "por paso frente al tamaño oculto (derecha), todos los ejes logarítmicos. La memoria del BPTT completo crece en proporción a T; los puntos de control mantienen la "
        "pendiente a un nivel más bajo (las salidas se siguen guardando) a cambio de una pasada hacia delante más; el "
        "tiempo por paso de RTRL es mucho mayor (su línea termina donde lo indica el rótulo junto a ella, cuando más "
        "pasos tardarían demasiado), y crece con H mucho más deprisa que el del BPTT."),
    "alt.costs_scaling": ("Three log-log line plots: time and peak memory against T, one line per method, and time "
                          "per step against H for RTRL and full BPTT.",
                          "Tres gráficas de líneas log-log: tiempo y memoria pico frente a T, una línea por método, y "
                          "tiempo por paso frente a H para RTRL y BPTT completo."),
    "fig.costs_truncation": (
        "How far truncated BPTT's gradient is from the true one as the truncation length k grows (band: ± std over "
        "seeds). Left: the cosine, 1 when the direction is right; right: the relative error, the bias that does not "
        "average out. Look at where the cosine reaches 1.",
        "Cuánto se aleja el gradiente del BPTT truncado del verdadero a medida que crece la longitud de truncado k "
        "(banda: ± desv. entre semillas). Izquierda: el coseno, 1 cuando la dirección es la correcta; derecha: el "
        "error relativo, el sesgo que no se compensa al promediar. Fíjese en dónde el coseno llega a 1."),
    "alt.costs_truncation": ("Two line plots against k: cosine rising to 1, relative error falling.",
                             "Dos gráficas de líneas frente a k: el coseno sube hasta 1 y el error relativo baja."),
    "fig.costs_training": (
        "Test accuracy on the delayed echo (mean ± std over seeds; dashed grey line: chance) against the steps of "
        "the stream seen (left) and against the CPU time spent training (right, logarithmic). Compare how much data "
        "and how much computing each method needs, and whether a truncation shorter than the delay learns at all.",
        "Precisión de prueba en el eco retardado (media ± desv. entre semillas; línea gris discontinua: azar) frente "
        "a los pasos del flujo vistos (izquierda) y frente al tiempo de CPU de entrenamiento (derecha, logarítmico). "
        "Compare cuántos datos y cuánto cómputo necesita cada método, y si un truncado más corto que la demora llega "
        "a aprender."),
    "alt.costs_training": ("Two line plots of test accuracy, against steps seen and against CPU time, one line per "
                           "method.",
                           "Dos gráficas de líneas de la precisión de prueba, frente a los pasos vistos y frente al "
                           "tiempo de CPU, una línea por método."),
    "col.method": ("method", "método"),
    "col.H": ("H", "H"),
    "col.P": ("parameters P", "parámetros P"),
    "col.seconds_per_step": ("seconds per step", "segundos por paso"),
    "col.seconds_per_step_std": ("± std", "± desv."),
    "table.hidden": ("Time per step against the hidden size", "Tiempo por paso frente al tamaño oculto"),
    "progress.costs: hidden size": ("costs: hidden size", "costes: tamaño oculto"),
    "col.k": ("k", "k"),
    "col.seconds_std": ("± std", "± desv."),
    "col.peak_mib": ("peak memory (MiB)", "memoria pico (MiB)"),
    "col.peak_bytes": ("peak memory (bytes)", "memoria pico (bytes)"),
    "col.grad_rel_error": ("gradient error vs full", "error del gradiente frente al completo"),
    "col.cosine": ("cosine", "coseno"),
    "col.cosine_std": ("± std", "± desv."),
    "col.relative_error": ("relative error", "error relativo"),
    "col.relative_error_std": ("± std", "± desv."),
    "col.updates": ("updates", "actualizaciones"),
    "col.cpu_seconds": ("CPU seconds", "segundos de CPU"),
    "col.cpu_seconds_std": ("± std", "± desv."),
    "table.cost_runs": ("Every cost measurement (each seed)", "Cada medida de coste (cada semilla)"),
    "table.truncation": ("Truncation bias against k", "Sesgo del truncado frente a k"),
    "table.training": ("Training on the delayed echo", "Entrenamiento en el eco retardado"),
}


def _split(entries: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    return {"en": {k: v[0] for k, v in entries.items()}, "es": {k: v[1] for k, v in entries.items()}}


MESSAGES = _split({**_ENTRIES, **_VANISHING, **_BATCH, **_REG, **_ACT, **_LEN, **_SEARCH, **_COSTS})
