"""A fair start (issue 21): shoppers who join a scheduled sale's line before its start
are shuffled once at the start, by a recorded draw, and served in that order, not in
the order they came; whoever arrives after the start stands behind all of them; and
the line opens no earlier than the merchant said."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from infra.errors import ApplicationError
from sales import keys, services
from sales.models import Sale
from tests.factories import make_sale
from tests.support.queue import redis_now_ms
from waitingroom.admitter import Admitter
from waitingroom.draw import drawn_order, order_digest
from waitingroom.queue import PlaceStatus, queue_join, queue_present

pytestmark = pytest.mark.django_db

EARLY = 200
LATE = 20
RATE = 30  # shoppers admitted per second


def _scheduled(owner, **fields) -> Sale:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(minutes=10), ends_at=now + timedelta(hours=1), **fields)
    return services.sale_schedule(sale_id=sale.pk)


def _admitted_this_tick(redis_conn, sale_id: int, seen: set[str]) -> list[str]:
    """The shoppers admitted since `seen`, in their tickets' order (a tick admits from the head)."""
    admitted = redis_conn.hgetall(keys.queue_key(sale_id, "admitted"))
    new = [(int(value.decode().rsplit("|", 1)[1]), shopper.decode()) for shopper, value in admitted.items()]
    fresh = [shopper for _ticket, shopper in sorted(new) if shopper not in seen]
    seen.update(fresh)
    return fresh


def test_the_pre_queue_is_served_in_the_recorded_draws_order(owner, redis_conn) -> None:
    sale = _scheduled(owner, quantity=10_000, admission_rate=RATE, per_user_limit=1)
    early = [f"early-{n:03d}" for n in range(EARLY)]
    for shopper in early:
        place = queue_join(sale_id=sale.pk, shopper=shopper)
        assert place.status == PlaceStatus.WAITING
        queue_present(sale_id=sale.pk, shopper=shopper)
    admitter = Admitter(holder="test", tick_seconds=1, lease_seconds=5)
    now = redis_now_ms(redis_conn)
    assert admitter.tick(now_ms=now) == 0  # before the start: a line, nobody admitted, no draw
    assert Sale.objects.get(pk=sale.pk).prequeue_draw is None

    # The start; and before the admitter's next tick, the first late arrivals.
    services.sale_go_live(sale_id=sale.pk)
    late = [f"late-{n:02d}" for n in range(LATE)]
    for shopper in late[:10]:
        queue_join(sale_id=sale.pk, shopper=shopper)
        queue_present(sale_id=sale.pk, shopper=shopper)

    now = redis_now_ms(redis_conn)
    seen: set[str] = set()
    admitter.tick(now_ms=now)  # draws the pre-queue (its allowance starts from this tick)
    record = Sale.objects.get(pk=sale.pk).prequeue_draw
    assert record is not None, "the draw is recorded in PostgreSQL"
    expected = drawn_order(str(record["seed"]), early)
    assert record["entrants"] == EARLY
    assert record["joined_digest"] == order_digest(early)
    assert record["drawn_digest"] == order_digest(expected)
    assert expected != early  # a shuffle, not the join order (a chance of 1 in 200!)
    assert len(str(record["seed"])) == 32  # 128 bits

    for shopper in late[10:]:
        queue_join(sale_id=sale.pk, shopper=shopper)
        queue_present(sale_id=sale.pk, shopper=shopper)

    served: list[str] = _admitted_this_tick(redis_conn, sale.pk, seen)
    second = 0
    while len(served) < EARLY + LATE:
        second += 1
        assert second < 60, f"only {len(served)} served"
        admitter.tick(now_ms=now + 1000 * second)
        batch = _admitted_this_tick(redis_conn, sale.pk, seen)
        assert len(batch) <= RATE
        served += batch
    # Exactly the draw's order, then the late arrivals in theirs.
    assert served[:EARLY] == expected
    assert served[EARLY:] == late
    assert Sale.objects.get(pk=sale.pk).prequeue_draw == record  # drawn once, recorded once


def test_no_one_in_line_before_the_start_means_no_draw(owner, redis_conn) -> None:
    sale = _scheduled(owner, admission_rate=RATE)
    services.sale_go_live(sale_id=sale.pk)
    queue_join(sale_id=sale.pk, shopper="after")
    queue_present(sale_id=sale.pk, shopper="after")
    admitter = Admitter(holder="test", tick_seconds=1, lease_seconds=5)
    now = redis_now_ms(redis_conn)
    admitter.tick(now_ms=now)
    admitter.tick(now_ms=now + 1000)
    assert Sale.objects.get(pk=sale.pk).prequeue_draw is None
    assert redis_conn.hexists(keys.queue_key(sale.pk, "admitted"), "after")


def test_the_line_opens_when_the_merchant_said(owner, redis_conn) -> None:
    now = timezone.now()
    sale = _scheduled(owner, queue_opens_at=now + timedelta(minutes=5))
    opens_ms = int(sale.queue_opens_at.timestamp() * 1000)

    early = queue_join(sale_id=sale.pk, shopper="too-early")
    assert (early.status, early.opens_ms) == (PlaceStatus.NOT_OPEN, opens_ms)
    assert not redis_conn.zscore(keys.queue_key(sale.pk, "waiting"), "too-early")

    on_time = queue_join(sale_id=sale.pk, shopper="on-time", now_ms=opens_ms)
    assert on_time.status == PlaceStatus.WAITING


@pytest.mark.parametrize(
    "opens, starts, problem",
    [
        (timedelta(minutes=20), timedelta(minutes=10), "The line must open before the sale starts."),
        (timedelta(minutes=10), timedelta(minutes=10), "The line must open before the sale starts."),
        (timedelta(minutes=5), None, "The line opens before a start: set the start time too."),
    ],
)
def test_a_line_that_opens_after_the_start_is_refused(owner, opens, starts, problem) -> None:
    now = timezone.now()
    with pytest.raises(ApplicationError) as refused:
        make_sale(owner, queue_opens_at=now + opens, starts_at=now + starts if starts else None)
    assert refused.value.fields == {"queue_opens_at": [problem]}


def test_going_live_early_opens_a_line_not_yet_open(owner) -> None:
    now = timezone.now()
    sale = _scheduled(owner, queue_opens_at=now + timedelta(minutes=5))
    live = services.sale_go_live(sale_id=sale.pk)
    assert live.queue_opens_at is None
    assert live.starts_at is not None and live.starts_at <= timezone.now()
