"""``python -m vistter``: the same as the ``vistter`` command."""

import sys

from vistter.cli import main

sys.exit(main())
