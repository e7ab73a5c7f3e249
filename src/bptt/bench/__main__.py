"""``python -m bptt.bench``: bptt vs torch.nn, forward+backward on the CPU (see :mod:`bptt.bench.run`)."""

import sys

from .run import main

sys.exit(main())
