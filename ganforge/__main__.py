"""`python -m ganforge` is the `ganforge` command (torchrun launches it this way)."""

import sys

from ganforge.cli import main

sys.exit(main())
