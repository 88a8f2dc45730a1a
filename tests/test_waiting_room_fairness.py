"""Fairness: 500 shoppers who join in a known order are admitted in exactly that
order (Kendall τ = 1 over the admitted), at the sale's admission rate, while the
10% whose pages go away are skipped without spending an admission.

The admitter's ticks run here on a simulated clock (admit.lua takes the time it
is given), so the rate is checked tick by tick, not within a wide tolerance;
tests/test_waiting_room_admitter.py checks it on the real clock, with the real
process."""

from __future__ import annotations

from itertools import combinations

import pytest
import redis

from sales import keys
from tests.factories import make_sale
from tests.support.queue import admitted_shoppers, redis_now_ms
from waitingroom.queue import queue_absent, queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db

SHOPPERS = 500
GRACE_SECONDS = 15


def kendall_tau(ranks_a: list[int], ranks_b: list[int]) -> float:
    """Kendall's τ of two rankings of the same items (no ties): 1 when every pair is in the same order."""
    concordant = discordant = 0
    for i, j in combinations(range(len(ranks_a)), 2):
        same = (ranks_a[i] - ranks_a[j]) * (ranks_b[i] - ranks_b[j])
        concordant += same > 0
        discordant += same < 0
    return (concordant - discordant) / (concordant + discordant)


def line_up(client: redis.Redis, sale_id: int, start_ms: int) -> tuple[list[str], set[str]]:
    """500 shoppers join in order with their pages connected; every tenth page
    (10%, spread through the line) then closes."""
    shoppers = [f"shopper-{n:03d}" for n in range(SHOPPERS)]
    for n, shopper in enumerate(shoppers):
        place = queue_join(sale_id=sale_id, shopper=shopper, now_ms=start_ms)
        assert (place.ticket, place.ahead) == (n + 1, n)
        queue_present(sale_id=sale_id, shopper=shopper)
    leavers = set(shoppers[3::10])
    for shopper in leavers:
        queue_absent(sale_id=sale_id, shopper=shopper, now_ms=start_ms)
    return shoppers, leavers


def test_admitted_in_join_order_while_leavers_are_skipped(owner, redis_conn, settings) -> None:
    settings.WAITING_ROOM_GRACE_SECONDS = GRACE_SECONDS
    # 50 a second, a tick every 20 ms: one admission per tick, so the admission order is total.
    sale = make_sale(owner, live=True, quantity=1000, admission_rate=50)
    start = redis_now_ms(redis_conn)
    shoppers, leavers = line_up(redis_conn, sale.pk, start)

    admitted_order: list[str] = []
    skipped_at: list[int] = []
    queue_admit(sale_id=sale.pk, now_ms=start)  # the first tick starts the clock
    now = start
    while redis_conn.zcard(keys.queue_key(sale.pk, "waiting")):
        now += 20
        before = admitted_shoppers(redis_conn, sale.pk)
        figures = queue_admit(sale_id=sale.pk, now_ms=now)
        admitted_now = admitted_shoppers(redis_conn, sale.pk) - before
        assert len(admitted_now) == figures.admitted <= 1
        admitted_order += admitted_now
        skipped_at += [now] * figures.skipped
        assert now < start + 60_000, "the queue did not drain"

    join_rank = {shopper: n for n, shopper in enumerate(shoppers)}
    assert len(admitted_order) == SHOPPERS - len(leavers) == 450
    assert not leavers & set(admitted_order)  # no admission spent on a page that went away
    assert kendall_tau([join_rank[s] for s in admitted_order], list(range(len(admitted_order)))) == 1
    assert admitted_order == [s for s in shoppers if s not in leavers]
    # The 450 took 9 s of ticks; the leavers were held (not admitted, not skipped)
    # until their grace period ran out, then skipped in the same tick.
    assert skipped_at == [skipped_at[0]] * 50
    assert start + GRACE_SECONDS * 1000 < skipped_at[0] <= start + GRACE_SECONDS * 1000 + 20
    stats = redis_conn.hgetall(keys.queue_key(sale.pk, "stats"))
    assert (int(stats[b"admitted_total"]), int(stats[b"skipped_total"])) == (450, 50)


@pytest.mark.parametrize(
    "rate, tick_ms", [(50, 500), (3, 500), (7, 300)], ids=["25-a-tick", "fraction-carried", "odd-tick"]
)
def test_admits_rate_times_time(owner, redis_conn, rate: int, tick_ms: int) -> None:
    """Each tick admits rate × time since the last one; the fraction of an
    admission is carried to the next tick, so no rate is rounded away."""
    sale = make_sale(owner, live=True, quantity=1000, admission_rate=rate)
    start = redis_now_ms(redis_conn)
    shoppers, _ = line_up(redis_conn, sale.pk, start)
    queue_admit(sale_id=sale.pk, now_ms=start)

    admitted_total = 0
    for tick in range(1, 17):  # up to 400 admissions: the line stays longer than that
        figures = queue_admit(sale_id=sale.pk, now_ms=start + tick * tick_ms)
        admitted_total += figures.admitted
        expected = rate * tick * tick_ms / 1000  # what the rate allows since the start
        assert expected - 1 < admitted_total <= expected, (tick, admitted_total, expected)
        assert figures.serving == shoppers.index(sorted(admitted_shoppers(redis_conn, sale.pk))[-1]) + 1
