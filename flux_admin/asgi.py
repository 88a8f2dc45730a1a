"""ASGI entry point: websockets (the waiting room, the live dashboard) under daphne.

The Django application is built first so that the app registry is ready before
any routing module imports models.
"""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from flux_admin.routing import websocket_urlpatterns  # noqa: E402
from flux_admin.sockets import SocketGuard  # noqa: E402

# The collector, tuned for thousands of open sockets. Every tick daphne writes one
# message per socket, and the short-lived objects of a burst that a young
# collection catches alive are promoted; the full collections they then trigger
# walk every object of every connection: measured with 3,000 sockets, one every
# ~6 s taking 180-490 ms (and growing with the sockets), each a late tick for
# everyone. Rarer young collections promote almost nothing; freezing what the
# imports built keeps it out of every collection.
gc.freeze()
gc.set_threshold(100_000, 50, 100)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Each route brings the middleware it needs (cookies only for shoppers).
        "websocket": SocketGuard(AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))),
    }
)
