"""``python -m chaos run|soak ...``: the chaos harness; other arguments run the fault proxy
(the same command line as ``python -m chaos.proxy``)."""

from chaos.cli import main

raise SystemExit(main())
