"""Refusals for the sale's window (not started, paused, ended) are not recorded
under the idempotency key: a retry with the same key, as the README tells the
shopper, gets the sale's answer of the moment; and a herd of fresh keys against
a closed sale meets the token bucket first and leaves nothing behind in Redis."""

from __future__ import annotations

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
