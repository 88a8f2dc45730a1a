"""The dashboard's ticker (dashboard/ticker.py) against the real Redis, PostgreSQL
and channel layer: its points carry the sale's figures and the rates between two
readings (accepted and refusals per second by reason, admissions, percentiles of
the buy path), each is kept in the sale's bounded history and sent to the sale's
group once; of two tickers only the one holding the lease ticks. The arithmetic
(percentiles from buckets, rates by reason) is checked on its own too."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer

from dashboard.figures import Reading, point_make, quantile_ms
from dashboard.history import history_read
from dashboard.ticker import sale_group
from orders.buy import decision
from orders.buy.tally import LATENCY_FIELDS, tally
from sales import keys, services
from tests.factories import make_sale
from tests.support.dashboard import step, tick, ticker
from waitingroom.queue import queue_join

# Committed rows: the tick reads the sales over the test's connection, the channel
# layer's listener runs on another thread.
pytestmark = pytest.mark.django_db(transaction=True)


def reading(now_ms: int, counts: dict[str, int], latency: list[int] | None = None, **fields) -> Reading:
    defaults = {
        "sale_id": 1, "status": "live", "quantity": 10, "sold": 0, "remaining": 10, "rate": 100,
        "burst": 100, "admission_rate": 5, "waiting": 0, "admitted_total": 0,
    }  # fmt: skip
    latency = latency or [0] * len(LATENCY_FIELDS)
    return Reading(
        now_ms=now_ms, counts=counts, latency=tuple(latency), latency_sum_us=0, **{**defaults, **fields}
    )


def test_percentiles_interpolate_inside_their_bucket() -> None:
    buckets = [0] * len(LATENCY_FIELDS)
    assert quantile_ms(buckets, 0.5) is None  # nothing counted
    buckets[2] = 100  # 100 requests between 0.5 and 1 ms
    assert quantile_ms(buckets, 0.5) == 0.75
    buckets[-1] = 2  # two slower than the last bound
    assert quantile_ms(buckets, 0.97) == pytest.approx(0.5 + 0.5 * (0.97 * 102) / 100, abs=0.001)
    assert quantile_ms(buckets, 0.99) == 2500.0  # in the slowest bucket: its lower bound


def test_rates_are_differences_over_the_time_between_readings() -> None:
    before = reading(10_000, {"accepted": 10, "sold_out": 5, "paused": 1}, admitted_total=4)
    after = reading(
        12_000,
        {"accepted": 30, "sold_out": 25, "rate_limited": 8, "paused": 3, "replay": 7},
        waiting=20,
        admitted_total=14,
    )
    point = point_make(after, before, None)
    assert point["accepted_per_s"] == 10.0
    assert point["refused_per_s"] == {
        "sold_out": 10.0,
        "rate_limited": 4.0,
        "limit_reached": 0.0,
        "unavailable": 0.0,
        "other": 1.0,  # paused
    }
    assert point["admitted_per_s"] == 5.0
    assert point["wait_s"] == 4.0  # 20 waiting at 5 admissions a second
    assert point["accepted_total"] == 30 and point["refused_total"] == 36  # replays are neither
    first = point_make(after, None, None)
    assert first["accepted_per_s"] is None and first["p99_ms"] is None  # no earlier reading


def test_a_tick_reads_keeps_and_sends_each_sales_point(owner, redis_conn) -> None:
    decision.forget_sold_out_flags()
    sale = make_sale(owner, live=True, quantity=5, per_user_limit=1, admission_rate=7)
    other = make_sale(owner, live=True, quantity=3)
    ticking = ticker()

    def buy(user: str) -> str:
        return decision.buy(
            sale_id=sale.pk, user_id=user, quantity=1, idempotency_key=uuid.uuid4().hex
        ).outcome.value

    received: list[dict] = []

    async def listen() -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(sale_group(sale.pk), channel)
        ready.set()
        while len(received) < 2:
            received.append(await asyncio.wait_for(layer.receive(channel), 20))

    import threading

    ready = threading.Event()
    with ThreadPoolExecutor(1) as thread:
        listening = thread.submit(asyncio.run, listen())
        assert ready.wait(10)
        time.sleep(0.3)  # the pub/sub subscription reaches Redis

        first = tick(ticking)
        assert set(first) == {sale.pk, other.pk}
        assert first[sale.pk]["accepted_per_s"] is None  # nothing to compare with yet

        answers = [buy(f"u{n}") for n in range(7)] + [buy("u0")]
        assert answers.count("accepted") == 5 and answers.count("sold_out") == 3
        queue_join(sale_id=other.pk, shopper="waiting-1")  # (a sold-out sale takes no one)
        tally().flush(redis_conn)  # what the process answered from memory, as its thread does
        time.sleep(0.2)  # some time on Redis's clock between the readings
        points = tick(ticking)
        point = points[sale.pk]
        listening.result(30)

    assert point["status"] == "sold_out" and point["sold"] == 5 and point["remaining"] == 0
    assert point["accepted_total"] == 5 and point["refused_total"] == 3
    assert point["accepted_per_s"] > 0 and point["refused_per_s"]["sold_out"] > 0
    assert point["refused_per_s"]["limit_reached"] == 0  # sold out is said before the limit
    assert point["p50_ms"] is not None and point["p99_ms"] >= point["p50_ms"]
    assert point["admission_rate"] == 7
    assert points[other.pk]["waiting"] == 1 and points[other.pk]["wait_s"] is not None
    assert point["units_persisted"] is not None and point["drift"] == 5 - point["units_persisted"]
    assert point["anomalies"] == 0

    assert [p["t"] for p in history_read(sale.pk)] == [first[sale.pk]["t"], point["t"]]
    assert [m["point"]["t"] for m in received] == [first[sale.pk]["t"], point["t"]]
    assert {m["type"] for m in received} == {"dashboard.point"}
    assert redis_conn.ttl(keys.dashboard_key(sale.pk)) > 0  # the history expires


def test_the_ticker_follows_the_sale_status(owner) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    ticking = ticker()
    assert tick(ticking)[sale.pk]["status"] == "live"
    services.sale_pause(sale_id=sale.pk)
    assert tick(ticking)[sale.pk]["status"] == "paused"
    services.sale_set_rates(sale_id=sale.pk, admission_rate=33)
    assert tick(ticking)[sale.pk]["admission_rate"] == 33


def test_of_two_tickers_the_lease_holder_ticks(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    first = ticker("first", tick_seconds=0.1, lease_seconds=0.3)
    second = ticker("second", tick_seconds=0.1, lease_seconds=0.3)
    assert (step(first), step(second)) == (True, False)
    assert len(history_read(sale.pk)) == 1  # one point: the standby did not tick
    assert redis_conn.get(keys.DASHBOARD_LEASE_KEY) == b"first"
    assert redis_conn.get(keys.ADMITTER_LEASE_KEY) is None  # a lease of its own
    first.release_lease()
    assert step(second) is True
