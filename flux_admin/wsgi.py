"""WSGI entry point: the pages and the HTTP API, served by granian."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

application = get_wsgi_application()

# Everything imported so far lives as long as the process: keep it out of the
# collector's full passes, which otherwise walk all of Django on every one.
gc.freeze()
