"""Abandonment: no admission is spent on a page that is not there to receive it.
A shopper whose page never came (a bot that joins and never listens), or whose
websocket closed, keeps its place but is passed over; one that comes back within
the grace period is admitted next, ahead of those behind it; one gone longer is
skipped. A page without websocket stays present by polling."""

from __future__ import annotations

import pytest

from sales import keys
from tests.factories import make_sale
from tests.support.queue import admitted_shoppers, redis_now_ms, waiting_shoppers
from waitingroom.queue import (
    PRESENCE_MS,
    queue_absent,
    queue_admit,
    queue_join,
    queue_polled,
    queue_present,
    queue_present_many,
)

pytestmark = pytest.mark.django_db

GRACE_MS = 15_000


@pytest.fixture(autouse=True)
def grace(settings) -> None:
    settings.WAITING_ROOM_GRACE_SECONDS = GRACE_MS // 1000


def test_a_shopper_who_never_listens_is_never_admitted_and_skipped_after_the_grace(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=10)
    start = redis_now_ms(redis_conn)
    queue_join(sale_id=sale.pk, shopper="bot", now_ms=start)  # joins, never connects nor polls
    queue_join(sale_id=sale.pk, shopper="alice", now_ms=start)
    queue_present(sale_id=sale.pk, shopper="alice")

    queue_admit(sale_id=sale.pk, now_ms=start)
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 1000)
    assert (figures.admitted, figures.skipped, figures.serving) == (1, 0, 2)  # alice, behind the bot
    assert admitted_shoppers(redis_conn, sale.pk) == {"alice"}
    assert waiting_shoppers(redis_conn, sale.pk) == ["bot"]  # held, not skipped yet

    assert queue_admit(sale_id=sale.pk, now_ms=start + GRACE_MS).skipped == 0
    assert queue_admit(sale_id=sale.pk, now_ms=start + GRACE_MS + 500).skipped == 1
    assert waiting_shoppers(redis_conn, sale.pk) == []
    assert admitted_shoppers(redis_conn, sale.pk) == {"alice"}


def test_a_page_that_comes_back_within_the_grace_is_admitted_next(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=1)
    start = redis_now_ms(redis_conn)
    for shopper in ("alice", "bob", "carol", "dave"):
        queue_join(sale_id=sale.pk, shopper=shopper, now_ms=start)
        queue_present(sale_id=sale.pk, shopper=shopper)
    queue_absent(sale_id=sale.pk, shopper="alice", now_ms=start)  # reloading, or lost her network
    queue_admit(sale_id=sale.pk, now_ms=start)

    # One admission a second: while alice is away, the shoppers behind her are admitted.
    queue_admit(sale_id=sale.pk, now_ms=start + 1000)
    queue_admit(sale_id=sale.pk, now_ms=start + 10_000)
    assert admitted_shoppers(redis_conn, sale.pk) == {"bob", "carol"}
    assert waiting_shoppers(redis_conn, sale.pk) == ["alice", "dave"]

    queue_present(sale_id=sale.pk, shopper="alice")  # back after 10 s: her place is still first
    queue_admit(sale_id=sale.pk, now_ms=start + 11_000)
    assert admitted_shoppers(redis_conn, sale.pk) == {"bob", "carol", "alice"}
    assert waiting_shoppers(redis_conn, sale.pk) == ["dave"]


def test_a_polling_page_is_present_while_it_polls(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=1)
    start = redis_now_ms(redis_conn)
    for shopper in ("stopped", "poller"):
        queue_join(sale_id=sale.pk, shopper=shopper, now_ms=start)
        queue_polled(sale_id=sale.pk, shopper=shopper, now_ms=start)
    queue_admit(sale_id=sale.pk, now_ms=start)

    # "stopped" polled once, at the start; "poller" keeps polling every 2 s.
    for milliseconds in range(2000, PRESENCE_MS + 1001, 2000):
        queue_polled(sale_id=sale.pk, shopper="poller", now_ms=start + milliseconds)
    assert queue_admit(sale_id=sale.pk, now_ms=start + PRESENCE_MS + 1000).admitted == 1
    assert admitted_shoppers(redis_conn, sale.pk) == {"poller"}  # though "stopped" stood first
    assert waiting_shoppers(redis_conn, sale.pk) == ["stopped"]

    queue_admit(sale_id=sale.pk, now_ms=start + GRACE_MS + 1)
    assert waiting_shoppers(redis_conn, sale.pk) == []  # its grace ran from its last poll


def test_a_poll_never_marks_an_open_websocket_away(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=1)
    start = redis_now_ms(redis_conn)
    queue_join(sale_id=sale.pk, shopper="alice", now_ms=start)
    queue_present(sale_id=sale.pk, shopper="alice")
    queue_polled(sale_id=sale.pk, shopper="alice", now_ms=start)  # a second tab, without websocket
    queue_admit(sale_id=sale.pk, now_ms=start + PRESENCE_MS * 2)
    assert queue_admit(sale_id=sale.pk, now_ms=start + PRESENCE_MS * 2 + 1000).admitted == 1


def test_presence_is_recorded_only_for_shoppers_holding_a_place(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True)
    assert queue_present(sale_id=sale.pk, shopper="stranger") is False
    assert queue_absent(sale_id=sale.pk, shopper="stranger") is False
    assert queue_polled(sale_id=sale.pk, shopper="stranger") is False
    assert not redis_conn.keys(f"*{sale.pk}*gone*")


def test_open_sockets_renew_their_shoppers_all_at_once(owner, redis_conn) -> None:
    """A daphne process renews the shoppers of all its sockets in one call: each is
    present again as after its own queue_present, and no one without a place is added."""
    sale = make_sale(owner, live=True, admission_rate=10)
    start = redis_now_ms(redis_conn)
    crowd = [f"shopper-{n}" for n in range(2500)]  # more than one command's chunk
    for shopper in crowd:
        queue_join(sale_id=sale.pk, shopper=shopper, now_ms=start)
        queue_absent(sale_id=sale.pk, shopper=shopper, now_ms=start)  # one tab of two closed
    queue_polled(sale_id=sale.pk, shopper=crowd[0], now_ms=start)

    queue_present_many(sale_id=sale.pk, shoppers={*crowd, "stranger"})

    assert redis_conn.zcard(keys.queue_key(sale.pk, "gone")) == 0
    assert redis_conn.zcard(keys.queue_key(sale.pk, "polled")) == 0
    figures = queue_admit(sale_id=sale.pk, now_ms=start + GRACE_MS * 2)  # long past the grace
    assert figures.skipped == 0  # present: none is treated as gone
    assert queue_present(sale_id=sale.pk, shopper="stranger") is False
