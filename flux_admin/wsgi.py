"""WSGI entry point: the pages and the HTTP API, served by granian."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

django_application = get_wsgi_application()

# The buy routes are served in front of Django (same edge, much less per request).
from orders.buy.lane import BuyFastLane  # noqa: E402

application = BuyFastLane(django_application)

# Connect this process's Kafka producer before the first buyer arrives, instead
# of inside the first buy (built per process: a forked child builds its own).
from orders.publisher import order_publisher  # noqa: E402

order_publisher()

# Everything imported so far lives as long as the process: keep it out of the
# collector's full passes, which otherwise walk all of Django on every one.
gc.freeze()
