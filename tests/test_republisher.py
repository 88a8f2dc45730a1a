"""Reservations that never reached Kafka (the web process died between the Redis
commit and the produce) are re-published and persisted exactly once; persisted
ones leave the ledger."""

from __future__ import annotations

import uuid

import pytest

from infra.clients import hot_script, lua_source
from orders.buy.decision import BUY_LUA
from orders.models import Order
from orders.republish import ledger_republish
from sales.keys import buy_script_keys, ledger_key, pending_key
from sales.live import live_state
from tests.factories import make_sale
from tests.support.consumer import drain, fresh_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def reserve_without_hand_off(sale_id: int, user: str) -> str:
    """What buy() does before it produces: the web process 'dies' right after."""
    order_id = str(uuid.uuid4())
    result = hot_script("buy", lua_source(BUY_LUA))(
        keys=buy_script_keys(sale_id, user),
        # no admission, no storefront, no client address, no proof of work
        args=[order_id, user, 1, "fingerprint", user, sale_id, "", "", "", ""],
    )
    assert result[0][0] == b"accepted"  # a group of one
    return order_id


def test_orphaned_reservations_are_republished_and_persisted_once(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    group = fresh_group()
    orphans = [reserve_without_hand_off(sale.pk, f"orphan-{n}") for n in range(3)]
    assert live_state(sale.pk).remaining == 7

    assert ledger_republish(grace_ms=0)["republished"] == 3
    assert ledger_republish(grace_ms=60_000)["republished"] == 0  # not again within the grace period
    ledger_republish(grace_ms=-10_000)  # and again later, before the consumer caught up: a duplicate

    drain(group, until=lambda: Order.objects.filter(sale=sale).count() == 3)
    assert sorted(
        str(pk) for pk in Order.objects.filter(sale=sale).values_list("order_id", flat=True)
    ) == sorted(orphans)
    # The consumer trimmed the ledger as it persisted them.
    assert redis_conn.hlen(ledger_key(sale.pk)) == 0
    assert redis_conn.zcard(pending_key(sale.pk)) == 0


def test_persisted_reservations_left_in_the_ledger_are_released(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    group = fresh_group()
    order_id = reserve_without_hand_off(sale.pk, "kept")
    ledger_republish(grace_ms=0)
    drain(group, until=lambda: Order.objects.filter(sale=sale).count() == 1)
    # Pretend the consumer's trim was lost (Redis blipped): the entry is back.
    redis_conn.zadd(pending_key(sale.pk), {order_id: 0})
    redis_conn.hset(ledger_key(sale.pk), order_id, "{}")

    assert ledger_republish(grace_ms=0) == {"republished": 0, "released": 1, "missing": 0, "unreplicated": 0}
    assert redis_conn.zcard(pending_key(sale.pk)) == 0
