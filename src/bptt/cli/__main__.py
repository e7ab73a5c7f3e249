"""``python -m bptt.cli``: the ``bptt`` command."""

import sys

from . import main

sys.exit(main())
