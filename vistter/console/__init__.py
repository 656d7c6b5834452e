"""The operator console: the web page served at ``/`` and the live-event routes under it.

:func:`console_routes` is what the control app mounts; the page itself is static files in
``static/`` (our ES modules and CSS, and vendored libraries listed in
``static/vendor/vendor.json``), a client of the public API like any other.
"""

from vistter.console.hub import EventFeed, EventHub
from vistter.console.routes import close_event_streams, console_routes

__all__ = ["EventFeed", "EventHub", "close_event_streams", "console_routes"]
