"""``python -m benchmarks``: the same as ``bptt bench`` (see :mod:`bptt.bench.run`)."""

import sys

from bptt.bench.run import main

sys.exit(main())
