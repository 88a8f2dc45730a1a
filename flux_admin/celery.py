"""The Celery application: broker on the local Redis, tasks found in each app."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

app = Celery("flux_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _broker_through_sentinels(sender: Any, **kwargs: Any) -> None:
    """With Redis behind Sentinel (REDIS_SENTINELS), the broker is reached through
    the Sentinels (settings build the sentinel:// URL). Celery reads the
    CELERY_BROKER_URL environment variable before its configuration, and there it
    still names one Redis server (only its database number counts): it gets the
    Sentinels' URL too, or the worker would stay with whichever node that URL
    names, primary or not. The broker's connections then ask the Sentinels for
    the primary whenever they connect (infra.clients.SentinelFollowingConnection)."""
    from django.conf import settings

    if not settings.REDIS_SENTINELS:
        return
    from kombu.transport.redis import SentinelChannel

    from infra.clients import SentinelFollowingConnection

    os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    SentinelChannel.connection_class = SentinelFollowingConnection
