"""A turn is the shopper's until the server says it has passed (issue 21): a pause
stops every turn's clock and the resume gives back what was left, however long the
pause; and the admitter never gives out more turns than units could still be sold
to them, so nobody is told "it's your turn" for a unit that is not there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from orders.buy import decision
from orders.buy.outcomes import Outcome
from sales import keys, services
from tests.factories import make_sale
from tests.support.queue import admitted_shoppers, redis_now_ms
from waitingroom.admission import admission_issue
from waitingroom.queue import PlaceStatus, queue_admit, queue_join, queue_place, queue_present

pytestmark = pytest.mark.django_db


def _sale(owner, **fields):
    """A live sale that opened five minutes ago (the tests replay its recent past)."""
    return make_sale(owner, live=True, starts_at=timezone.now() - timedelta(minutes=5), **fields)


LIFETIME_MS = settings.ADMISSION_TOKEN_SECONDS * 1000


def _admit_one(sale_id: int, shopper: str, at_ms: int) -> None:
    queue_join(sale_id=sale_id, shopper=shopper, now_ms=at_ms)
    queue_present(sale_id=sale_id, shopper=shopper)
    queue_admit(sale_id=sale_id, now_ms=at_ms)
    assert queue_admit(sale_id=sale_id, now_ms=at_ms + 1000).admitted == 1


def test_a_turn_survives_a_90_second_pause(owner, redis_conn) -> None:
    sale = _sale(owner, quantity=5, admission_rate=1)
    now = redis_now_ms(redis_conn)
    # Admitted 100 s ago: by the wall clock its turn ended LIFETIME_MS after that. But
    # the sale was paused 90 s ago, when the turn still had LIFETIME_MS - 10 s left.
    admitted_at = now - 100_000 + 1000
    _admit_one(sale.pk, "alice", now - 100_000)
    services.sale_pause(sale_id=sale.pk)
    redis_conn.hset(keys.state_key(sale.pk), "paused_ms", now - 90_000)  # the pause began 90 s ago
    left_at_pause = admitted_at + LIFETIME_MS - (now - 90_000)
    assert left_at_pause > 0

    # During the pause: the turn is kept, its clock stopped; the admitter does not drop
    # it; the page gets its token and the frozen time left; a buy is told "paused".
    queue_admit(sale_id=sale.pk)
    assert admitted_shoppers(redis_conn, sale.pk) == {"alice"}
    place = queue_place(sale_id=sale.pk, shopper="alice")
    assert (place.status, place.paused, place.left_ms) == (PlaceStatus.ADMITTED, True, left_at_pause)
    token = admission_issue(sale_id=sale.pk, shopper="alice")
    assert token is not None
    during = decision.buy(
        sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="k1", admission_token=token
    )
    assert during.outcome == Outcome.PAUSED

    # The resume gives the turn back what it had left when the pause began.
    services.sale_resume(sale_id=sale.pk)
    place = queue_place(sale_id=sale.pk, shopper="alice")
    assert place.status == PlaceStatus.ADMITTED and not place.paused
    assert left_at_pause - 2000 <= place.left_ms <= left_at_pause
    bought = decision.buy(
        sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="k2", admission_token=token
    )
    assert bought.outcome == Outcome.ACCEPTED


def test_a_turn_that_had_run_out_before_the_pause_stays_over(owner, redis_conn) -> None:
    sale = _sale(owner, quantity=5, admission_rate=1)
    now = redis_now_ms(redis_conn)
    _admit_one(sale.pk, "bob", now - LIFETIME_MS - 30_000)  # ran out 29 s ago
    token = admission_issue(sale_id=sale.pk, shopper="bob", now_ms=now - LIFETIME_MS - 20_000)
    services.sale_pause(sale_id=sale.pk)
    redis_conn.hset(keys.state_key(sale.pk), "paused_ms", now - 10_000)  # paused after it ran out
    assert queue_place(sale_id=sale.pk, shopper="bob").status == PlaceStatus.NONE
    services.sale_resume(sale_id=sale.pk)
    late = decision.buy(
        sale_id=sale.pk, user_id="bob", quantity=1, idempotency_key="k", admission_token=token
    )
    assert late.outcome == Outcome.ADMISSION_INVALID


def test_no_more_turns_than_units_left_minus_turns_outstanding(owner, redis_conn) -> None:
    sale = _sale(owner, quantity=3, admission_rate=10)
    start = redis_now_ms(redis_conn)
    for n in range(10):
        queue_join(sale_id=sale.pk, shopper=f"s{n}", now_ms=start)
        queue_present(sale_id=sale.pk, shopper=f"s{n}")
    queue_admit(sale_id=sale.pk, now_ms=start)

    # The rate allows 10 a second; 3 units are left: 3 turns.
    assert queue_admit(sale_id=sale.pk, now_ms=start + 1000).admitted == 3
    assert admitted_shoppers(redis_conn, sale.pk) == {"s0", "s1", "s2"}

    # s0 buys: 2 units left and 2 turns outstanding: nobody more.
    token = admission_issue(sale_id=sale.pk, shopper="s0")
    bought = decision.buy(
        sale_id=sale.pk, user_id="s0", quantity=1, idempotency_key="k0", admission_token=token
    )
    assert bought.outcome == Outcome.ACCEPTED
    assert queue_admit(sale_id=sale.pk, now_ms=start + 2000).admitted == 0

    # s1's and s2's turns lapse: their units can go to the next two in line.
    after_lapse = start + 1000 + LIFETIME_MS + 1
    figures = queue_admit(sale_id=sale.pk, now_ms=after_lapse)
    assert figures.admitted == 2
    assert admitted_shoppers(redis_conn, sale.pk) == {"s3", "s4"}
