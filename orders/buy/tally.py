"""What the buy path counts in the web process: the outcomes buy.lua cannot count,
and how long each buy took. Nothing here talks to Redis on the request's time.

buy.lua counts every decision it makes, in the same round trip (sales/keys.py,
``counts``). Some answers never reach it: the herd answered ``sold_out`` from
memory (most of a flash sale's traffic), a forged admission token, Kafka or Redis
unavailable. Each web process adds those up here, with the duration of every buy
(a histogram, LATENCY_BUCKETS_MS), under one lock, and a thread of the process
writes the sums into the sale's Redis hashes once a second (tally.lua, one
pipelined round trip; a sale with no live state gets nothing). So the dashboard's ticker and /metrics read the same figures, whichever
process or host answered, and a request pays a dictionary update, not a Redis
command nor a file write.

What a process had not flushed when it died (at most a second's worth) is lost;
what it could not flush because Redis was down is kept and written when Redis is back.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import time
from collections import defaultdict
from pathlib import Path

import redis

from infra.clients import lua_source, redis_client, redis_script
from sales import keys

logger = logging.getLogger(__name__)

# Upper bounds, in ms, of the buy path's duration histogram (Prometheus' `le`); the
# last bucket is everything slower. Fine below a millisecond (answers from memory,
# one Redis round trip), coarse around the Kafka acknowledgement (BUY_KAFKA_ACK_TIMEOUT).
LATENCY_BUCKETS_MS = (0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)
LATENCY_FIELDS = (*(f"{bound:g}" for bound in LATENCY_BUCKETS_MS), "+Inf")
FLUSH_SECONDS = 1.0
_start_lock = threading.Lock()
TALLY_LUA = Path(__file__).resolve().parent / "tally.lua"


class Tally:
    """One process's unflushed counts: (sale, outcome) -> n, and per sale the
    histogram's bucket counts and the sum of durations (µs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: defaultdict[tuple[int, str], int] = defaultdict(int)
        self._buckets: dict[int, list[int]] = {}
        self._sums_us: defaultdict[int, int] = defaultdict(int)

    def record(self, sale_id: int, seconds: float, outcome: str | None = None) -> None:
        """One buy: its duration, and its outcome when buy.lua did not count it."""
        index = bisect.bisect_left(LATENCY_BUCKETS_MS, seconds * 1000)
        with self._lock:
            buckets = self._buckets.get(sale_id)
            if buckets is None:
                buckets = self._buckets[sale_id] = [0] * len(LATENCY_FIELDS)
            buckets[index] += 1
            self._sums_us[sale_id] += int(seconds * 1_000_000)
            if outcome is not None:
                self._counts[sale_id, outcome] += 1

    def take(self) -> tuple[dict[tuple[int, str], int], dict[int, list[int]], dict[int, int]]:
        """Everything counted since the last take, and start again from zero."""
        with self._lock:
            taken = (dict(self._counts), self._buckets, dict(self._sums_us))
            self._counts.clear()
            self._buckets = {}
            self._sums_us.clear()
        return taken

    def give_back(
        self, counts: dict[tuple[int, str], int], buckets: dict[int, list[int]], sums_us: dict[int, int]
    ) -> None:
        """A flush that failed: keep its figures for the next one."""
        with self._lock:
            for key, n in counts.items():
                self._counts[key] += n
            for sale_id, taken in buckets.items():
                mine = self._buckets.setdefault(sale_id, [0] * len(LATENCY_FIELDS))
                for index, n in enumerate(taken):
                    mine[index] += n
            for sale_id, us in sums_us.items():
                self._sums_us[sale_id] += us

    def flush(self, client: redis.Redis) -> bool:
        """Add what was counted to the sales' Redis hashes (tally.lua, one call per
        sale, pipelined: one round trip). False, and nothing lost, when Redis does
        not answer."""
        counts, buckets, sums_us = self.take()
        if not counts and not buckets:
            return True
        per_sale: defaultdict[int, list[object]] = defaultdict(list)
        for (sale_id, outcome), n in counts.items():
            per_sale[sale_id].extend((outcome, n))
        script = redis_script("buy-tally", lua_source(TALLY_LUA))
        pipe = client.pipeline(transaction=False)
        for sale_id in per_sale.keys() | buckets.keys():
            pairs = per_sale.get(sale_id, [])
            latency: list[object] = []
            for field, n in zip(LATENCY_FIELDS, buckets.get(sale_id, ()), strict=False):
                if n:
                    latency.extend((field, n))
            if sale_id in buckets:
                latency.extend(("sum_us", sums_us.get(sale_id, 0)))
            script(
                keys=[keys.state_key(sale_id), keys.counts_key(sale_id), keys.latency_key(sale_id)],
                args=[len(pairs) // 2, *pairs, *latency],
                client=pipe,
            )
        try:
            pipe.execute()
        except redis.RedisError as error:
            logger.debug("buy tally: not flushed, kept for the next second: %s", error)
            self.give_back(counts, buckets, sums_us)
            return False
        return True


def _flush_forever(tally: Tally) -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            tally.flush(redis_client())
        except Exception:  # the thread must outlive any surprise; the figures stay
            logger.exception("buy tally: flush failed")


_tally: Tally | None = None


def _forget() -> None:
    global _tally, _start_lock
    _tally, _start_lock = None, threading.Lock()


# A forked child (granian's workers) starts its own tally and thread: threads do not
# survive a fork. Cheaper than checking the pid on every request.
os.register_at_fork(after_in_child=_forget)


def tally() -> Tally:
    """This process's tally, with its flushing thread (started on first use)."""
    global _tally
    if _tally is None:
        with _start_lock:
            if _tally is None:
                started = Tally()
                threading.Thread(
                    target=_flush_forever, args=(started,), name="buy-tally-flush", daemon=True
                ).start()
                _tally = started
    return _tally
