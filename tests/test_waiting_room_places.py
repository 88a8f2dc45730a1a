"""One place per shopper per sale: a refresh keeps it, an admission is kept
until it is spent or expires, and a shopper who lost its place (skipped,
admission spent or expired) starts again at the back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.buy import decision
from orders.buy.outcomes import Outcome
from tests.factories import make_sale
from tests.support.queue import admit, redis_now_ms
from waitingroom.queue import (
    PlaceStatus,
    queue_absent,
    queue_admit,
    queue_join,
    queue_place,
    queue_present,
)

pytestmark = pytest.mark.django_db


def test_a_refresh_keeps_the_place(owner) -> None:
    sale = make_sale(owner, live=True)
    first = queue_join(sale_id=sale.pk, shopper="alice")
    queue_join(sale_id=sale.pk, shopper="bob")
    queue_join(sale_id=sale.pk, shopper="carol")

    again = queue_join(sale_id=sale.pk, shopper="alice")  # the page reloaded
    assert (first.status, first.ticket, first.joined) == (PlaceStatus.WAITING, 1, True)
    assert (again.status, again.ticket, again.ahead, again.joined) == (PlaceStatus.WAITING, 1, 0, False)
    bob = queue_join(sale_id=sale.pk, shopper="bob")
    assert (bob.ticket, bob.ahead) == (2, 1)
    assert queue_place(sale_id=sale.pk, shopper="carol").ticket == 3


def test_a_skipped_shopper_rejoins_at_the_back(owner, redis_conn, settings) -> None:
    settings.WAITING_ROOM_GRACE_SECONDS = 15
    sale = make_sale(owner, live=True, admission_rate=1)
    start = redis_now_ms(redis_conn)
    queue_join(sale_id=sale.pk, shopper="alice", now_ms=start)
    queue_present(sale_id=sale.pk, shopper="alice")
    for shopper in ("bob", "carol"):
        queue_join(sale_id=sale.pk, shopper=shopper, now_ms=start)
        queue_present(sale_id=sale.pk, shopper=shopper)
    queue_absent(sale_id=sale.pk, shopper="alice", now_ms=start)  # alice's tab closed

    queue_admit(sale_id=sale.pk, now_ms=start)
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 16_000)  # past the grace period
    assert (figures.skipped, figures.admitted) == (1, 1)  # alice skipped, bob admitted
    assert queue_place(sale_id=sale.pk, shopper="alice").status == PlaceStatus.NONE

    back = queue_join(sale_id=sale.pk, shopper="alice", now_ms=start + 17_000)
    assert (back.ticket, back.ahead, back.joined) == (4, 1, True)  # behind carol, who still waits


def test_an_admitted_shopper_keeps_its_admission_until_it_buys(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, per_user_limit=2)
    token = admit(redis_conn, sale.pk, "alice")

    place = queue_join(sale_id=sale.pk, shopper="alice")  # the admitted page reloaded
    assert (place.status, place.ticket) == (PlaceStatus.ADMITTED, 1)
    result = decision.buy(
        sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="a-1", admission_token=token
    )
    assert result.outcome == Outcome.ACCEPTED

    # Spent: to buy again (the limit is 2) alice queues again, at the back.
    queue_join(sale_id=sale.pk, shopper="bob")
    again = queue_join(sale_id=sale.pk, shopper="alice")
    assert (again.status, again.ticket, again.ahead) == (PlaceStatus.WAITING, 3, 1)


def test_an_admission_that_expired_unused_starts_again_at_the_back(owner, redis_conn, settings) -> None:
    settings.ADMISSION_TOKEN_SECONDS = 60
    sale = make_sale(owner, live=True, starts_at=timezone.now() - timedelta(minutes=5))
    two_minutes_ago = redis_now_ms(redis_conn) - 120_000
    admit(redis_conn, sale.pk, "alice", now_ms=two_minutes_ago)
    assert queue_place(sale_id=sale.pk, shopper="alice").status == PlaceStatus.NONE
    queue_join(sale_id=sale.pk, shopper="bob")

    place = queue_join(sale_id=sale.pk, shopper="alice")
    assert (place.status, place.ticket, place.ahead, place.joined) == (PlaceStatus.WAITING, 3, 1, True)
