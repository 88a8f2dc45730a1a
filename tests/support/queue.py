"""The waiting room's queue as tests drive it: Redis's clock, and a shopper
taken through the queue to an admission token (join, page connected, ticks)."""

from __future__ import annotations

import redis

from sales import keys
from waitingroom.admission import admission_issue
from waitingroom.queue import PlaceStatus, queue_admit, queue_join, queue_present


def redis_now_ms(client: redis.Redis) -> int:
    """Redis's clock, the one the queue's scripts read."""
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


def admitted_shoppers(client: redis.Redis, sale_id: int) -> set[str]:
    return {shopper.decode() for shopper in client.hkeys(keys.queue_key(sale_id, "admitted"))}


def waiting_shoppers(client: redis.Redis, sale_id: int) -> list[str]:
    """The queue, head first."""
    return [shopper.decode() for shopper in client.zrange(keys.queue_key(sale_id, "waiting"), 0, -1)]


def admit(client: redis.Redis, sale_id: int, shopper: str, *, now_ms: int | None = None) -> str:
    """Take `shopper` through the queue: join, connect its page, tick until it is
    admitted (on a clock of its own from `now_ms`: the sale's admission rate lets
    at least one through per simulated second). Returns its admission token."""
    now_ms = redis_now_ms(client) if now_ms is None else now_ms
    queue_join(sale_id=sale_id, shopper=shopper, now_ms=now_ms)
    queue_present(sale_id=sale_id, shopper=shopper)
    for second in range(1, 60):
        queue_admit(sale_id=sale_id, now_ms=now_ms + 1000 * second)
        place = queue_join(sale_id=sale_id, shopper=shopper, now_ms=now_ms + 1000 * second)
        if place.status == PlaceStatus.ADMITTED:
            token = admission_issue(sale_id=sale_id, shopper=shopper, now_ms=now_ms + 1000 * second)
            assert token is not None
            return token
    raise AssertionError(f"{shopper} was never admitted")
