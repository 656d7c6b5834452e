"""``python -m vistter.render.previews``: one preview render process (see
:mod:`vistter.render.previews.child`; the order's classes must be imported under their own
module names, so the entry point is this module, not ``child``)."""

import sys

from vistter.render.previews.child import main

sys.exit(main())
