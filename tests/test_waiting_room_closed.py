"""A closed queue takes no one and admits no one: a sold-out or ended sale
refuses joiners; a paused one keeps its queue and takes joiners but admits
nobody until it resumes, and then at its rate, not in a burst saved up while
it was paused. A sale that has not started takes joiners ahead of its start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.buy import decision
from orders.buy.outcomes import Outcome
from sales import keys, services
from tests.factories import make_sale
from tests.support.queue import redis_now_ms
from waitingroom.admission import admission_issue
from waitingroom.queue import PlaceStatus, queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db


def line_up(sale_id: int, count: int, now_ms: int, prefix: str = "s") -> None:
    for n in range(count):
        queue_join(sale_id=sale_id, shopper=f"{prefix}{n}", now_ms=now_ms)
        queue_present(sale_id=sale_id, shopper=f"{prefix}{n}")


def test_an_unknown_sale_takes_no_one() -> None:
    assert queue_join(sale_id=987654321, shopper="alice").status == PlaceStatus.NOT_FOUND


def test_a_sold_out_sale_takes_no_one_and_admits_no_one(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=1, admission_rate=1)
    start = redis_now_ms(redis_conn)
    line_up(sale.pk, 3, start)
    queue_admit(sale_id=sale.pk, now_ms=start)
    assert queue_admit(sale_id=sale.pk, now_ms=start + 1000).admitted == 1  # s0
    token = admission_issue(sale_id=sale.pk, shopper="s0", now_ms=start + 1000)
    bought = decision.buy(
        sale_id=sale.pk, user_id="s0", quantity=1, idempotency_key="k", admission_token=token
    )
    assert bought.outcome == Outcome.ACCEPTED  # the last unit

    assert queue_join(sale_id=sale.pk, shopper="late").status == PlaceStatus.SOLD_OUT
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 2000)
    assert (figures.status, figures.admitted, figures.waiting, figures.remaining) == ("sold_out", 0, 2, 0)

    # A restock reopens the sale: the queue kept its order and moves on from where it was.
    services.sale_restock(sale_id=sale.pk, units=5)
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 3000)
    assert (figures.status, figures.admitted, figures.serving) == ("live", 1, 2)


def test_an_ended_sale_takes_no_one_and_its_queue_is_cleared(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=10)
    start = redis_now_ms(redis_conn)
    line_up(sale.pk, 3, start)
    services.sale_end(sale_id=sale.pk)

    assert queue_join(sale_id=sale.pk, shopper="late").status == PlaceStatus.ENDED
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 1000)
    assert (figures.status, figures.admitted, figures.waiting) == ("ended", 0, 0)
    assert not redis_conn.exists(*keys.queue_keys(sale.pk, "waiting", "gone", "admitted"))


def test_a_sale_past_its_end_time_is_ended_before_the_sweep_ends_it(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, ends_at=timezone.now() + timedelta(hours=1))
    in_two_hours = redis_now_ms(redis_conn) + 2 * 3600_000
    assert queue_join(sale_id=sale.pk, shopper="late", now_ms=in_two_hours).status == PlaceStatus.ENDED
    assert queue_admit(sale_id=sale.pk, now_ms=in_two_hours).status == "ended"


def test_a_paused_sale_keeps_its_queue_and_admits_at_its_rate_once_resumed(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=4)
    start = redis_now_ms(redis_conn)
    line_up(sale.pk, 20, start)
    queue_admit(sale_id=sale.pk, now_ms=start)
    services.sale_pause(sale_id=sale.pk)

    assert queue_join(sale_id=sale.pk, shopper="during-pause", now_ms=start).ticket == 21
    for second in range(1, 11):  # ten seconds paused
        figures = queue_admit(sale_id=sale.pk, now_ms=start + second * 1000)
        assert (figures.status, figures.admitted, figures.waiting) == ("paused", 0, 21)

    services.sale_resume(sale_id=sale.pk)
    # 4/s x the half second since the last (paused) tick, from the head; not 4/s x 10 s.
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 10_500)
    assert (figures.status, figures.admitted, figures.serving) == ("live", 2, 2)
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 11_000)
    assert (figures.admitted, figures.serving) == (2, 4)


def test_a_sale_not_started_takes_joiners_and_admits_from_its_start(owner, redis_conn) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(seconds=30), ends_at=now + timedelta(hours=1))
    services.sale_schedule(sale_id=sale.pk)
    start = redis_now_ms(redis_conn)
    line_up(sale.pk, 5, start)

    figures = queue_admit(sale_id=sale.pk, now_ms=start + 1000)
    assert (figures.status, figures.admitted, figures.waiting) == ("scheduled", 0, 5)
    # Before its start, with shoppers waiting, a buy joins them at the back of the line
    # (the way in is decided before the window, buy.lua); the queue is the place to wait.
    assert decision.buy(sale_id=sale.pk, user_id="s0", quantity=1, idempotency_key="k").outcome == (
        Outcome.RATE_LIMITED
    )
