"""``python -m lowlight``: the same as the ``lowlight`` command."""

import sys

from .cli import main

sys.exit(main())
