"""The Celery application: broker on the local Redis, tasks found in each app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

app = Celery("flux_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
