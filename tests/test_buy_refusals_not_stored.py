"""Refusals are not recorded under the idempotency key, only accepted orders are: a
retry with the same key, as the README tells the shopper, gets the sale's answer of
the moment; a herd of fresh keys against a closed sale meets the token bucket first
and leaves nothing behind in Redis; and a flood of fresh keys from a shopper at the
limit, or against a sold-out sale, leaves nothing either (issue 22's audit: 5,000
such buys left 5,000 records of 280 B, for 8 days)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.buy import decision
from orders.buy.outcomes import Outcome
from sales import keys, services
from tests.factories import make_sale

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_process_memory() -> None:
    decision.forget_sold_out_flags()


def buy(sale_id: int, key: str, user: str = "alice") -> Outcome:
    return decision.buy(sale_id=sale_id, user_id=user, quantity=1, idempotency_key=key).outcome


def test_a_key_refused_before_the_start_buys_once_the_sale_is_live(owner) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    services.sale_schedule(sale_id=sale.pk)
    assert buy(sale.pk, "early") == Outcome.NOT_STARTED

    services.sale_go_live(sale_id=sale.pk)

    assert buy(sale.pk, "early") == Outcome.ACCEPTED


def test_a_key_refused_while_paused_buys_once_resumed(owner) -> None:
    sale = make_sale(owner, live=True)
    services.sale_pause(sale_id=sale.pk)
    assert buy(sale.pk, "during-pause") == Outcome.PAUSED

    services.sale_resume(sale_id=sale.pk)

    assert buy(sale.pk, "during-pause") == Outcome.ACCEPTED


@pytest.mark.parametrize("closed", ["paused", "not_started", "ended"])
def test_fresh_keys_against_a_closed_sale_write_nothing_and_meet_the_bucket(
    owner, redis_conn, closed: str
) -> None:
    now = timezone.now()
    if closed == "not_started":
        sale = make_sale(
            owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2), rate=1, burst=5
        )
        services.sale_schedule(sale_id=sale.pk)
    else:
        sale = make_sale(owner, live=True, rate=1, burst=5)
        (services.sale_pause if closed == "paused" else services.sale_end)(sale_id=sale.pk)
    keys_before = set(redis_conn.keys())

    outcomes = [buy(sale.pk, f"herd-{n}", user=f"shopper-{n}") for n in range(200)]

    assert outcomes.count(Outcome(closed)) <= 6  # the burst, and at most a token refilled meanwhile
    assert outcomes.count(Outcome.RATE_LIMITED) >= 194
    assert redis_conn.keys(f"fg:{{{sale.pk}}}:idem:*") == []
    # Nothing per key: at most the bucket and the dashboard's counters (one each per sale).
    fixed = {keys.bucket_key(sale.pk), keys.counts_key(sale.pk), keys.latency_key(sale.pk)}
    assert {key.decode() for key in set(redis_conn.keys()) - keys_before} <= fixed


# What a flood may add to Redis's memory, whatever its size: the sale's counters and
# the allocator's own noise, not a record per key (5,000 records took about 1.4 MB).
FLOOD_MEMORY_BOUND = 128 * 1024


def test_a_flood_from_a_shopper_at_the_limit_stores_nothing(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=100, per_user_limit=1, rate=1_000_000, burst=1_000_000)
    assert buy(sale.pk, "bought", user="scalper") == Outcome.ACCEPTED
    memory_before = redis_conn.info("memory")["used_memory"]

    outcomes = Counter(buy(sale.pk, f"flood-{n}", user="scalper") for n in range(5_000))

    assert outcomes == {Outcome.LIMIT_REACHED: 5_000}
    assert len(redis_conn.keys(f"fg:{{{sale.pk}}}:idem:*")) == 1  # the accepted order's only
    grown = redis_conn.info("memory")["used_memory"] - memory_before
    assert grown < FLOOD_MEMORY_BOUND, f"Redis grew by {grown} B under 5,000 refused buys"


def test_a_herd_against_a_sold_out_sale_stores_nothing(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=1, rate=1_000_000, burst=1_000_000)
    assert buy(sale.pk, "the-one", user="first") == Outcome.ACCEPTED
    outcomes = Counter()
    for n in range(300):
        decision.forget_sold_out_flags()  # as if each came to another process: all reach buy.lua
        outcomes[buy(sale.pk, f"late-{n}", user=f"late-{n}")] += 1
    assert outcomes == {Outcome.SOLD_OUT: 300}
    assert len(redis_conn.keys(f"fg:{{{sale.pk}}}:idem:*")) == 1  # the accepted order's only


def test_a_key_told_sold_out_buys_after_a_restock(owner) -> None:
    import time

    sale = make_sale(owner, live=True, quantity=1)
    assert buy(sale.pk, "a", user="a") == Outcome.ACCEPTED
    assert buy(sale.pk, "b", user="b") == Outcome.SOLD_OUT
    services.sale_restock(sale_id=sale.pk, units=1)
    decision.forget_sold_out_flags()
    time.sleep(keys.SOLD_OUT_FLAG_MS / 1000 + 0.2)  # the restock reopens once every flag has lapsed
    assert buy(sale.pk, "b", user="b") == Outcome.ACCEPTED
