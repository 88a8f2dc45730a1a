"""Storefront keys: a merchant's shop signs its shoppers' X-Shopper-Token with one
(the format and the check: orders/buy/identity.py).

PostgreSQL holds the keys; the buy path, which has no ORM, reads their mirror in
one Redis hash (sales/keys.py, storefront_keys_key). Creating and revoking write
both in one step: the database transaction commits only once Redis took the
change, so a key is never usable without its row, nor revoked on one side only
by a failure of the other. The scheduler's sweep rebuilds the mirror when it no
longer matches the database (Redis lost it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis
from django.db import transaction

from infra.clients import redis_client
from infra.errors import ServiceUnavailable
from sales import keys
from sales.models import StorefrontKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User as Merchant


def _mirror_entry(key: StorefrontKey) -> str:
    return f"{key.merchant_id}|{key.secret}"


def _redis_write(call: Callable[[redis.Redis], object]) -> None:
    """A write to the mirror; a Redis failure becomes ServiceUnavailable, which
    rolls the caller's transaction back."""
    try:
        call(redis_client())
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer (storefront keys): {error}") from error


@transaction.atomic
def storefront_key_create(*, merchant: Merchant, name: str) -> tuple[StorefrontKey, str]:
    """A new storefront key for `merchant`; returns it with its secret, which the
    caller shows once (the admin, `manage.py create_storefront_key`)."""
    key = StorefrontKey.objects.create(
        merchant=merchant,
        name=name,
        key_id=StorefrontKey.KEY_ID_PREFIX + secrets.token_hex(8),
        secret=secrets.token_urlsafe(32),
    )
    _redis_write(lambda client: client.hset(keys.storefront_keys_key(), key.key_id, _mirror_entry(key)))
    return key, key.secret


@transaction.atomic
def storefront_key_revoke(*, key: StorefrontKey) -> None:
    """Revoke a key: its tokens are refused within STOREFRONT_KEY_CACHE_SECONDS
    (the web processes' cache of keys, orders/buy/identity.py)."""
    key_id = key.key_id
    key.delete()
    _redis_write(lambda client: client.hdel(keys.storefront_keys_key(), key_id))


def storefront_keys_mirror(*, only_if_stale: bool = False) -> bool:
    """Write the Redis mirror from PostgreSQL, in one MULTI (the buy path sees the
    old mirror or the new one). With only_if_stale, only when the number of keys
    differs (Redis lost some or all of them): the sweep's check, two cheap reads.
    A create or revoke committing meanwhile can leave the mirror one key off; the
    next sweep's count sees it and writes again. Returns whether it wrote."""
    client = redis_client()
    mirror = keys.storefront_keys_key()
    try:
        if only_if_stale and client.hlen(mirror) == StorefrontKey.objects.count():
            return False
        entries = {key.key_id: _mirror_entry(key) for key in StorefrontKey.objects.all()}
        pipe = client.pipeline(transaction=True)
        pipe.delete(mirror)
        if entries:
            pipe.hset(mirror, mapping=entries)
        pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer (storefront keys): {error}") from error
    return True
