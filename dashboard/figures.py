"""The live dashboard's figures: what one tick reads about a sale, and the point it
makes of two readings a second apart.

Everything that moves is counted cumulatively where it happens, never per second
on the hot path: buy.lua and the web processes add up outcomes and durations in
the sale's Redis hashes (`counts`, `latency`, orders/buy/tally.py), admit.lua
counts admissions (`queue:stats`). A reading takes those totals with the sale's
stock and queue in one Redis round trip, on Redis's clock; the rates per second
are the differences between two readings over the time between them.

    reading_many    one pipeline: state, counts, latency, queue length, admitted total, TIME
    point_make      two readings (+ the books from orders.reconcile) -> one point, a plain dict
    quantile_ms     a percentile from histogram buckets, interpolated as Prometheus does
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from infra.clients import redis_client, redis_ms
from infra.errors import ServiceUnavailable
from orders.buy.outcomes import Outcome
from orders.buy.tally import LATENCY_BUCKETS_MS, LATENCY_FIELDS
from orders.reconcile import Reconciliation
from sales import keys

# The refusals a merchant tells apart, each the outcomes it gathers (buy.lua's names).
REFUSALS: dict[str, tuple[str, ...]] = {
    "sold_out": (Outcome.SOLD_OUT,),
    "rate_limited": (Outcome.RATE_LIMITED,),  # sent to the waiting room
    "limit_reached": (Outcome.LIMIT_REACHED, Outcome.ADDRESS_LIMIT_REACHED),
    "unavailable": (Outcome.UNAVAILABLE,),
    "other": (
        Outcome.PAUSED,
        Outcome.NOT_STARTED,
        Outcome.ENDED,
        Outcome.ADMISSION_INVALID,
        Outcome.SHOPPER_INVALID,
        Outcome.PROOF_REQUIRED,
    ),
}


@dataclass(frozen=True)
class Reading:
    """A sale's cumulative figures at one moment (Redis's clock)."""

    sale_id: int
    now_ms: int
    status: str
    quantity: int
    sold: int
    remaining: int
    rate: int
    burst: int
    admission_rate: int
    counts: dict[str, int]  # outcome -> decisions so far
    latency: tuple[int, ...]  # requests per bucket so far (LATENCY_FIELDS)
    latency_sum_us: int  # their durations added up
    waiting: int  # shoppers in the waiting room's queue
    admitted_total: int  # admitted from the queue so far


def status_seen(state: dict[str, str], now_ms: int) -> str:
    """The status as a buy would meet it now (admit.lua's reading): ended once its end
    passed, scheduled before its start, sold out when nothing is left, before the
    scheduler writes any of it down."""
    status, remaining = state["status"], int(state["remaining"])
    starts_ms, ends_ms = int(state.get("starts_ms") or 0), int(state.get("ends_ms") or 0)
    if status == "ended" or 0 < ends_ms <= now_ms:
        return "ended"
    if status == "scheduled" or now_ms < starts_ms:
        return "scheduled"
    if status == "live" and remaining <= 0:
        return "sold_out"
    return status


def _int(raw: bytes | None) -> int:
    return int(raw) if raw else 0


def reading_many(sale_ids: list[int]) -> dict[int, Reading]:
    """Readings of several sales in one round trip; a sale with no live state (a
    draft, or Redis lost it) is left out. ServiceUnavailable if Redis does not answer."""
    if not sale_ids:
        return {}
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.time()
        for sale_id in sale_ids:
            pipe.hgetall(keys.state_key(sale_id))
            pipe.hgetall(keys.counts_key(sale_id))
            pipe.hmget(keys.latency_key(sale_id), [*LATENCY_FIELDS, "sum_us"])
            pipe.zcard(keys.queue_key(sale_id, "waiting"))
            pipe.hget(keys.queue_key(sale_id, "stats"), "admitted_total")
        raw = pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    now_ms = redis_ms(raw[0])
    readings = {}
    for index, sale_id in enumerate(sale_ids):
        state, counts, latency, waiting, admitted = raw[1 + 5 * index : 6 + 5 * index]
        if not state:
            continue
        text = {k.decode(): v.decode() for k, v in state.items()}
        readings[sale_id] = Reading(
            sale_id=sale_id,
            now_ms=now_ms,
            status=status_seen(text, now_ms),
            quantity=int(text["quantity"]),
            sold=int(text.get("sold", 0)),
            remaining=int(text["remaining"]),
            rate=int(text["rate"]),
            burst=int(text["burst"]),
            admission_rate=int(text["admission_rate"]),
            counts={k.decode(): int(v) for k, v in counts.items()},
            latency=tuple(_int(n) for n in latency[:-1]),
            latency_sum_us=_int(latency[-1]),
            waiting=int(waiting),
            admitted_total=_int(admitted),
        )
    return readings


def quantile_ms(buckets: list[int] | tuple[int, ...], q: float) -> float | None:
    """The q-quantile (0..1) of durations counted in LATENCY_FIELDS' buckets, by
    linear interpolation inside the bucket that holds it (Prometheus'
    histogram_quantile); the slowest bucket answers its lower bound. None when
    nothing was counted."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, n in enumerate(buckets):
        if n and seen + n >= rank:
            if index >= len(LATENCY_BUCKETS_MS):
                return float(LATENCY_BUCKETS_MS[-1])
            lower = LATENCY_BUCKETS_MS[index - 1] if index else 0.0
            upper = LATENCY_BUCKETS_MS[index]
            return round(lower + (upper - lower) * (rank - seen) / n, 3)
        seen += n
    return float(LATENCY_BUCKETS_MS[-1])  # pragma: no cover - rank <= total always lands above


def _per_second(now: int, before: int, seconds: float) -> float:
    return round(max(0, now - before) / seconds, 2)


def point_make(reading: Reading, previous: Reading | None, books: Reconciliation | None) -> dict[str, object]:
    """One point of a sale's dashboard: its figures now, and its rates since the
    previous reading (None on the first reading, or when the clock did not move).
    `books` (orders.reconcile) adds what PostgreSQL and Kafka say; None when
    PostgreSQL did not answer this tick."""
    counts = reading.counts
    refused_total = sum(counts.get(outcome, 0) for group in REFUSALS.values() for outcome in group)
    seconds = (reading.now_ms - previous.now_ms) / 1000 if previous is not None else 0
    rates: dict[str, object] = {
        "accepted_per_s": None,
        "refused_per_s": None,
        "admitted_per_s": None,
        "p50_ms": None,
        "p99_ms": None,
    }
    if previous is not None and seconds > 0:
        before = previous.counts
        rates["accepted_per_s"] = _per_second(
            counts.get(Outcome.ACCEPTED, 0), before.get(Outcome.ACCEPTED, 0), seconds
        )
        rates["refused_per_s"] = {
            name: _per_second(
                sum(counts.get(o, 0) for o in group), sum(before.get(o, 0) for o in group), seconds
            )
            for name, group in REFUSALS.items()
        }
        rates["admitted_per_s"] = _per_second(reading.admitted_total, previous.admitted_total, seconds)
        # The buy path's percentiles over the last tick's requests only.
        recent = [max(0, now - then) for now, then in zip(reading.latency, previous.latency, strict=True)]
        rates["p50_ms"] = quantile_ms(recent, 0.5)
        rates["p99_ms"] = quantile_ms(recent, 0.99)
    return {
        "sale_id": reading.sale_id,
        "t": reading.now_ms,
        "status": reading.status,
        "quantity": reading.quantity,
        "sold": reading.sold,
        "remaining": reading.remaining,
        "accepted_total": counts.get(Outcome.ACCEPTED, 0),
        "refused_total": refused_total,
        **rates,
        "waiting": reading.waiting,
        "admission_rate": reading.admission_rate,
        # At the admission rate; shoppers whose page went away are passed over, so
        # the real wait of those behind can only be shorter.
        "wait_s": (round(reading.waiting / reading.admission_rate, 1) if reading.admission_rate else None),
        "rate": reading.rate,
        "burst": reading.burst,
        "consumer_lag": books.consumer_lag if books else None,
        "orders_persisted": books.orders_persisted if books else None,
        "units_persisted": books.units_persisted if books else None,
        "drift": books.drift if books else None,
        "in_flight": books.pending_reservations if books else None,
        "anomalies": books.anomalies if books else None,
    }
