"""``python -m spe.cli``: the ``spe`` command."""

import sys

from ._main import main

sys.exit(main())
