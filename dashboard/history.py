"""A sale's dashboard history in Redis (sales/keys.py, ``dashboard``): the ticker
appends each point, a page that opens (or reloads) gets them all back first.

Bounded to HISTORY_POINTS (an hour at one point a second) and kept HISTORY_SECONDS
after the last point, so a sale's history goes away a day after its ticks stop
(the ticker ticks a sale until a minute after it ends)."""

from __future__ import annotations

import json

import redis

from infra.clients import redis_client
from infra.errors import ServiceUnavailable
from sales import keys

HISTORY_POINTS = 3600
HISTORY_SECONDS = 86400


def history_append(points: dict[int, dict[str, object]]) -> None:
    """Append one point to each sale's history, in one round trip."""
    if not points:
        return
    try:
        pipe = redis_client().pipeline(transaction=False)
        for sale_id, point in points.items():
            key = keys.dashboard_key(sale_id)
            pipe.rpush(key, json.dumps(point, separators=(",", ":")))
            pipe.ltrim(key, -HISTORY_POINTS, -1)
            pipe.expire(key, HISTORY_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error


def history_read(sale_id: int) -> list[dict[str, object]]:
    """The sale's points so far, oldest first ([] when it has none)."""
    try:
        raw = redis_client().lrange(keys.dashboard_key(sale_id), 0, -1)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    return [json.loads(point) for point in raw]


def history_last(sale_ids: list[int]) -> dict[int, dict[str, object]]:
    """The latest point of each sale that has one (the overview page, /metrics)."""
    if not sale_ids:
        return {}
    try:
        pipe = redis_client().pipeline(transaction=False)
        for sale_id in sale_ids:
            pipe.lindex(keys.dashboard_key(sale_id), -1)
        raw = pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    return {sale_id: json.loads(point) for sale_id, point in zip(sale_ids, raw, strict=True) if point}
