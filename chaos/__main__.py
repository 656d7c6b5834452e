"""``python -m chaos``: the same command line as ``python -m chaos.proxy``."""

from chaos.cli import main

raise SystemExit(main())
