"""The Celery application: broker on the local Redis, tasks found in each app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

app = Celery("flux_admin")


def _broker_follows_failover() -> None:
    """With Redis behind Sentinel, the broker's connections ask the Sentinels for
    the primary each time they connect (infra.clients.SentinelFollowingConnection):
    kombu's own reconnect otherwise keeps knocking at the primary that died."""
    from kombu.transport.redis import SentinelChannel

    from infra.clients import SentinelFollowingConnection

    SentinelChannel.connection_class = SentinelFollowingConnection


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
_broker_follows_failover()
