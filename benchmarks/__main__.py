"""``python -m benchmarks``: bptt vs torch.nn, forward+backward on the CPU (see :mod:`benchmarks.run`)."""

import sys

from .run import main

sys.exit(main())
