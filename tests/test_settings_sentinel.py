"""REDIS_SENTINELS points every Redis client at the primary the Sentinels name:
the app's own (REDIS_URL's database), Celery's broker (kombu's sentinel://
transport) and the Channels layer; a malformed address is refused at start,
naming it. Without it, nothing changes (the single Redis of the URLs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.servers import ROOT

SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.CELERY_BROKER_URL, getattr(s, 'CELERY_BROKER_TRANSPORT_OPTIONS', None), "
    "s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0], s.REDIS_DB, s.REDIS_SENTINEL_ADDRESSES]))"
)
HA_NAMES = {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_WAIT_REPLICAS", "REDIS_WAIT_TIMEOUT_MS"}


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in HA_NAMES}
    environment.update(DJANGO_SETTINGS_MODULE="flux_admin.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_sentinels_reach_every_redis_client() -> None:
    result = settings_with(
        REDIS_SENTINELS="127.0.0.1:26381, 10.0.0.2:26382",
        REDIS_SENTINEL_MASTER="shop",
        REDIS_URL="redis://ignored:1/3",
        CELERY_BROKER_URL="redis://ignored:1/4",
        CHANNELS_REDIS_URL="redis://ignored:1/5",
    )
    assert result.returncode == 0, result.stderr
    broker, options, channels, db, sentinels = json.loads(result.stdout.splitlines()[-1])
    assert broker == "sentinel://127.0.0.1:26381/4;sentinel://10.0.0.2:26382/4"
    assert options == {"master_name": "shop"}
    assert channels == {
        "master_name": "shop",
        "sentinels": [["127.0.0.1", 26381], ["10.0.0.2", 26382]],
        "db": 5,
    }
    assert (db, sentinels) == (3, [["127.0.0.1", 26381], ["10.0.0.2", 26382]])


def test_without_sentinels_the_urls_are_used_as_they_are() -> None:
    result = settings_with(
        CELERY_BROKER_URL="redis://127.0.0.1:6379/4", CHANNELS_REDIS_URL="redis://127.0.0.1:6379/5"
    )
    assert result.returncode == 0, result.stderr
    broker, options, channels, _, sentinels = json.loads(result.stdout.splitlines()[-1])
    assert (broker, options, channels, sentinels) == (
        "redis://127.0.0.1:6379/4",
        None,
        "redis://127.0.0.1:6379/5",
        [],
    )


def test_a_malformed_sentinel_address_is_named() -> None:
    result = settings_with(REDIS_SENTINELS="127.0.0.1:26381,sentinel-two")
    assert result.returncode != 0
    assert "REDIS_SENTINELS: 'sentinel-two' is not host:port" in result.stderr


def test_a_wait_longer_than_the_socket_timeout_is_refused() -> None:
    result = settings_with(REDIS_WAIT_REPLICAS="1", REDIS_WAIT_TIMEOUT_MS="5000", REDIS_SOCKET_TIMEOUT="2")
    assert result.returncode != 0
    assert "REDIS_WAIT_TIMEOUT_MS must be shorter than REDIS_SOCKET_TIMEOUT" in result.stderr
