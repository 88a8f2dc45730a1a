"""Admission tokens for shoppers the admitter let through (waitingroom/queue.py).

The admitter records each admission in Redis (queue:admitted: nonce, expiry,
ticket); this module turns a shopper's recorded admission into the signed token
its page sends with the purchase (the Admission-Token header). The format, and
the buy path's check of the signature, are in orders/buy/admission.py; buy.lua
checks the nonce and the expiry and spends the admission.
"""

from __future__ import annotations

import redis

from infra.clients import redis_client, redis_ms
from infra.errors import ServiceUnavailable
from orders.buy.admission import Admission, admission_sign
from sales import keys


def admission_issue(*, sale_id: int, shopper: str, now_ms: int | None = None) -> str | None:
    """The signed admission token of a shopper whose place was admitted, or None
    (not admitted, already spent, or expired: the shopper joins again). Issuing
    it twice gives the same admission: it is spent once, by the first buy."""
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            pipe.hget(keys.queue_key(sale_id, "admitted"), shopper)
            pipe.hmget(keys.state_key(sale_id), "status", "paused_ms")
            pipe.time()  # Redis's clock, as buy.lua's
            recorded, (status, paused_ms), redis_time = pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    if recorded is None:
        return None
    if now_ms is None:
        now_ms = redis_ms(redis_time)
    if status == b"paused" and paused_ms is not None:
        now_ms = int(paused_ms)  # a pause stops the turn's clock (sales/lua/set_status.lua)
    nonce, expires_ms, ticket = recorded.decode().split("|")
    if int(expires_ms) <= now_ms:
        return None
    admission = Admission(
        sale_id=sale_id, shopper=shopper, ticket=int(ticket), nonce=nonce, expires_ms=int(expires_ms)
    )
    return admission_sign(admission=admission)
