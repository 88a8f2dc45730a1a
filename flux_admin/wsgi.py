"""WSGI entry point: the pages and the HTTP API, served by granian."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

application = get_wsgi_application()
