"""Storefront keys: created by `manage.py create_storefront_key` or in the admin,
the secret shown once; mirrored into Redis for the buy path; revoking removes
the mirror entry and the buy path refuses the key within
STOREFRONT_KEY_CACHE_SECONDS; the sweep rebuilds a mirror Redis lost."""

from __future__ import annotations

import json
import re
import time
import uuid
from io import StringIO

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from orders.buy import identity
from sales import keys, services
from sales.models import StorefrontKey
from sales.storefront import storefront_key_revoke
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.shoppers import Storefront, storefront

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_key_cache() -> None:
    identity.forget_storefront_keys()


def mirrored(redis_conn: redis.Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in redis_conn.hgetall(keys.storefront_keys_key()).items()}


def test_the_command_prints_the_key_once_and_mirrors_it(owner, redis_conn: redis.Redis) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_storefront_key", owner.username, "--name", "web shop", stdout=out, stderr=err)
    key_id, secret = out.getvalue().strip().splitlines()[-1].split(" ")
    assert re.fullmatch(r"fgk_[0-9a-f]{16}", key_id) and len(secret) >= 40
    assert "shown only now" in err.getvalue()
    key = StorefrontKey.objects.get(key_id=key_id)
    assert (key.merchant, key.name) == (owner, "web shop")
    assert mirrored(redis_conn) == {key_id: f"{owner.pk}|{secret}"}
    # What a shop signs with it passes the buy path's check.
    token = Storefront(owner.pk, key_id, secret).token("alice")
    assert identity.shopper_token_verify(token) == identity.Shopper(f"m{owner.pk}:alice", owner.pk)


def test_the_command_refuses_an_unknown_merchant() -> None:
    with pytest.raises(CommandError, match="no user named"):
        call_command("create_storefront_key", "nobody", stdout=StringIO(), stderr=StringIO())


def test_the_admin_shows_the_secret_once_and_revokes_by_deleting(
    owner, other_merchant, redis_conn: redis.Redis
) -> None:
    console = Client()
    console.force_login(owner)
    added = console.post("/admin/sales/storefrontkey/add/", {"name": "web shop"}, follow=True)
    assert added.status_code == 200
    key = StorefrontKey.objects.get(merchant=owner)
    page = added.content.decode()
    assert key.secret in page and key.key_id in page  # shown once, on the page after adding
    listing = console.get("/admin/sales/storefrontkey/").content.decode()
    assert key.key_id in listing and key.secret not in listing  # and never again
    assert mirrored(redis_conn) == {key.key_id: f"{owner.pk}|{key.secret}"}

    # Another merchant neither sees nor revokes it.
    stranger = Client()
    stranger.force_login(other_merchant)
    assert key.key_id not in stranger.get("/admin/sales/storefrontkey/").content.decode()
    stranger.post(f"/admin/sales/storefrontkey/{key.pk}/delete/", {"post": "yes"})
    assert StorefrontKey.objects.filter(pk=key.pk).exists()
    assert key.key_id in mirrored(redis_conn)

    revoked = console.post(f"/admin/sales/storefrontkey/{key.pk}/delete/", {"post": "yes"})
    assert revoked.status_code == 302
    assert not StorefrontKey.objects.filter(pk=key.pk).exists()
    assert mirrored(redis_conn) == {}


@pytest.mark.slow
def test_a_revoked_key_is_refused_within_the_cache_period(owner, web_server: WebServer) -> None:
    shop = storefront(owner)
    sale = make_sale(owner, live=True, quantity=10_000, per_user_limit=1, rate=1_000_000, burst=1_000_000)

    def buy(ref: str) -> str:
        _, _, body = web_server.post(
            f"/api/v1/sales/{sale.pk}/buy", "{}", {"Idempotency-Key": uuid.uuid4().hex, **shop.headers(ref)}
        )
        return json.loads(body)["status"]

    # Both web processes read the key (and cache it).
    assert {buy(f"before-{n}") for n in range(20)} == {"accepted"}
    storefront_key_revoke(key=StorefrontKey.objects.get(key_id=shop.key_id))
    revoked_at = time.monotonic()
    refused_in_a_row = 0
    while refused_in_a_row < 20:
        assert time.monotonic() - revoked_at < settings.STOREFRONT_KEY_CACHE_SECONDS + 3, "still accepted"
        refused_in_a_row = refused_in_a_row + 1 if buy(uuid.uuid4().hex[:12]) == "shopper_invalid" else 0
        time.sleep(0.05)


def test_the_sweep_mirrors_the_keys_again_after_redis_lost_them(owner, redis_conn: redis.Redis) -> None:
    shop = storefront(owner)
    redis_conn.delete(keys.storefront_keys_key())  # Redis lost its data
    services.sales_sweep()
    assert mirrored(redis_conn) == {shop.key_id: f"{owner.pk}|{shop.secret}"}
    before = redis_conn.info("commandstats").get("cmdstat_del", {}).get("calls", 0)
    services.sales_sweep()  # nothing lost: nothing rewritten
    assert redis_conn.info("commandstats").get("cmdstat_del", {}).get("calls", 0) == before
