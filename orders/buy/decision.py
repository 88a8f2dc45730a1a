"""The buy decision: the hot path of the whole product.

Every shopper's "Buy" lands here. The path is kept short on purpose: no ORM
query, no logging at INFO, one Redis round trip (orders/buy/buy.lua) and, for
an accepted order, one bounded wait for Kafka's acknowledgement.

    buy()
      1. sold-out flag     answer from memory when this process saw the sale sold out
                           less than a second ago (most of a flash sale's traffic)
      2. admission token   only with one (admitted from the waiting room): its signature,
                           shopper and sale, checked here (orders/buy/admission.py)
      3. Kafka available?  refuse (503) before reserving while the broker is down
      4. buy.lua           idempotency, window, admission / waiting room / token bucket,
                           stock, per-user limit, reservation in the ledger — atomically;
                           one call for the buys of a sale that arrive meanwhile (group.py)
      5. hand-off          produce the reservation's message, wait for the ack;
                           no ack in time -> "accepted, pending", never given back

Counting, for the live dashboard and /metrics: buy.lua adds each decision it makes
to the sale's counts in the same round trip; the answers given without it (steps
1-3, Redis down) and every buy's duration are added up in the process
(orders/buy/tally.py) and written to Redis once a second by a thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import redis
from django.conf import settings

from infra.clients import hot_script, lua_source, per_process
from orders.buy.admission import admission_nonce
from orders.buy.group import GroupCommit
from orders.buy.outcomes import DETAILS, Outcome
from orders.buy.steps import Decide, KafkaAvailable, Publish, Read, Step, Steps
from orders.buy.tally import tally
from orders.publisher import order_publisher
from sales import keys

BUY_LUA = Path(__file__).resolve().parent / "buy.lua"
T = TypeVar("T")
__all__ = ["Decide", "KafkaAvailable", "Publish", "Read", "Step", "Steps"]  # for the drivers
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")


@dataclass(frozen=True, slots=True)
class BuyResult:
    outcome: Outcome
    body: bytes  # JSON, ready to send
    retry_after: int | None = None


def _body(outcome: str, detail: str | None = None, **fields: object) -> bytes:
    return json.dumps({"status": outcome, "detail": detail or DETAILS[Outcome(outcome)], **fields}).encode()


@lru_cache(maxsize=4096)
def _refusal(outcome: str, sale_id: int) -> BuyResult:
    """Refusals do not depend on the shopper: rendered once per sale and outcome."""
    return BuyResult(outcome, _body(outcome, sale_id=sale_id))


def _unavailable(what: str) -> BuyResult:
    return BuyResult(
        Outcome.UNAVAILABLE,
        _body(Outcome.UNAVAILABLE, f"{what} cannot take orders right now; retry shortly."),
        1,
    )


# Per process: sale id -> (expires at, monotonic seconds; the idempotency keys that
# bought). While set, a request whose key did not buy is answered sold_out from
# memory: nothing new can be accepted while the sale is sold out, and a restock
# reopens it only after the flag has expired everywhere (restock.lua).
_sold_out_flags: dict[int, tuple[float, frozenset[str]]] = {}


# Order ids: random (version 4) UUIDs, as uuid.uuid4() makes them, but from one read of
# the OS's randomness per ORDER_ID_BATCH orders instead of one system call per order (3%
# of the front's CPU per in-stock order). A forked child starts a pool of its own: a
# pool inherited from the parent would hand both of them the same ids.
ORDER_ID_BATCH = 256
_order_id_pool: list[bytes] = []
os.register_at_fork(after_in_child=_order_id_pool.clear)


def order_id_new() -> str:
    """A new order's id (a random UUID); safe from any thread."""
    try:
        raw = _order_id_pool.pop()
    except IndexError:  # empty (or emptied by another thread meanwhile): refill
        block = os.urandom(16 * ORDER_ID_BATCH)
        _order_id_pool.extend(block[i : i + 16] for i in range(16, len(block), 16))
        raw = block[:16]
    return str(uuid.UUID(bytes=raw, version=4))


# --- the steps, and their I/O (orders/buy/steps.py) -------------------------------------


def run_sync(steps: Steps[T]) -> T:
    """Drive the steps with blocking I/O on the calling thread (the WSGI lane, Django)."""
    try:
        step = next(steps)
        while True:
            try:
                if isinstance(step, Read):
                    value: object = hot_script(step.name, step.source)(
                        keys=list(step.keys), args=list(step.args)
                    )
                elif isinstance(step, Decide):
                    # One call of buy.lua, shared with the process's other buys of this sale
                    # that arrive meanwhile (group commit, orders/buy/group.py).
                    value = _groups().decide(step.sale_id, step.idempotency_key, step.args)
                elif isinstance(step, Publish):
                    value = order_publisher().publish(
                        key=step.key, value=step.value, timeout=settings.BUY_KAFKA_ACK_TIMEOUT
                    )
                else:
                    value = order_publisher().available
            except Exception as error:  # the generator handles it where the step was asked for
                step = steps.throw(error)
                continue
            step = steps.send(value)
    except StopIteration as done:
        return done.value


def buy(
    *,
    sale_id: int,
    user_id: str,
    quantity: int,
    idempotency_key: str,
    admission_token: str | None = None,
    merchant_id: int | None = None,
    client_address: str = "",
    proof_bits: int | None = None,
) -> BuyResult:
    """Decide one purchase, blocking: buy_steps driven by run_sync."""
    return run_sync(
        buy_steps(
            sale_id=sale_id,
            user_id=user_id,
            quantity=quantity,
            idempotency_key=idempotency_key,
            admission_token=admission_token,
            merchant_id=merchant_id,
            client_address=client_address,
            proof_bits=proof_bits,
        )
    )


def buy_steps(
    *,
    sale_id: int,
    user_id: str,
    quantity: int,
    idempotency_key: str,
    admission_token: str | None = None,
    merchant_id: int | None = None,
    client_address: str = "",
    proof_bits: int | None = None,
) -> Steps[BuyResult]:
    """Decide one purchase. Inputs are already validated (the API edge does it);
    `admission_token` is the Admission-Token header of a shopper admitted from the
    waiting room, None for everyone else. `merchant_id`: a storefront's shopper's
    merchant (orders/buy/identity.py), who must be the sale's. A hosted pages'
    shopper (the cookie) brings `proof_bits`, the proof of work its cookie cost, and
    its `client_address` (grouped: identity.address_group), whose units the sale caps;
    everyone else brings None and "", and is neither checked nor counted.

    Counted and timed for the live dashboard and /metrics (orders/buy/tally.py):
    two clock reads and one dictionary update under a lock, no I/O; buy.lua counts
    what it decides itself, so only the answers given without it are counted here."""
    started = time.perf_counter()
    flag = _sold_out_flags.get(sale_id)
    if flag is not None and flag[0] > time.monotonic() and idempotency_key not in flag[1]:
        tally().record(sale_id, time.perf_counter() - started, Outcome.SOLD_OUT)
        return _refusal(Outcome.SOLD_OUT, sale_id)  # the herd after the stock is gone: no round trip
    result, uncounted = yield from _decide(
        sale_id, user_id, quantity, idempotency_key, admission_token, merchant_id, client_address, proof_bits
    )
    tally().record(sale_id, time.perf_counter() - started, uncounted)
    return result


def _decide(
    sale_id: int,
    user_id: str,
    quantity: int,
    idempotency_key: str,
    admission_token: str | None,
    merchant_id: int | None,
    client_address: str,
    proof_bits: int | None,
) -> Steps[tuple[BuyResult, str | None]]:
    """Steps 2-5. Returns the result, and its outcome if buy.lua did not count it."""
    nonce = ""  # no admission: buy.lua sends the shopper through the queue or the bucket
    if admission_token is not None:
        # Only admitted shoppers pay for this HMAC; spent or expired is buy.lua's to say.
        nonce = admission_nonce(token=admission_token, sale_id=sale_id, shopper=user_id) or ""
        if not nonce:
            return _refusal(Outcome.ADMISSION_INVALID, sale_id), Outcome.ADMISSION_INVALID

    if not (yield KafkaAvailable()):
        return _unavailable("The order log (Kafka)"), Outcome.UNAVAILABLE

    order_id = order_id_new()  # the order's identity from here to PostgreSQL
    fingerprint = hashlib.sha1(f"{user_id}\x1f{quantity}".encode()).hexdigest()
    try:
        result: list = yield Decide(
            sale_id,
            idempotency_key,
            (
                *(order_id, user_id, quantity, fingerprint, idempotency_key, sale_id, nonce),
                *(merchant_id or "", client_address, "" if proof_bits is None else proof_bits),
            ),
        )
    except redis.RedisError:
        return _unavailable("The stock service (Redis)"), Outcome.UNAVAILABLE

    kind = result[0].decode()
    if kind == Outcome.ACCEPTED:
        acknowledged = yield Publish(order_id.encode(), result[1])
        outcome = Outcome.ACCEPTED if acknowledged else Outcome.PENDING
        accepted = BuyResult(
            outcome, _accepted_body(outcome, order_id, sale_id, user_id, quantity, int(result[2]))
        )
        # buy.lua counted it accepted; accepted_pending says its acknowledgement was late.
        return accepted, None if acknowledged else Outcome.PENDING
    if kind == "replay":
        return _replay(result[1].decode(), fingerprint, sale_id, user_id, quantity), None
    if kind == Outcome.RATE_LIMITED:
        retry_after = max(1, -(-int(result[1]) // 1000))
        limited = BuyResult(Outcome.RATE_LIMITED, _refusal(Outcome.RATE_LIMITED, sale_id).body, retry_after)
        return limited, None
    if kind == Outcome.SOLD_OUT and result[1]:
        accepted_keys = frozenset(k.decode() for k in result[1])
        _sold_out_flags[sale_id] = (time.monotonic() + keys.SOLD_OUT_FLAG_MS / 1000, accepted_keys)
    return _refusal(Outcome(kind), sale_id), None


def _run_group(sale_id: int, idempotency_keys: Sequence[str], args: Sequence[object]) -> list:
    """One call of buy.lua for a group of buys of one sale; one result per buy."""
    # HA: answered only once a replica holds the group's decisions (else ReplicasUnconfirmed,
    # a RedisError: 503 for every buy of the group; a retry of a key replays its decision if
    # it outlived a failover, or decides anew if it was lost with the primary; README "High
    # availability").
    return hot_script("buy", lua_source(BUY_LUA), replicated=True)(
        keys=keys.buy_script_keys(sale_id, *idempotency_keys), args=list(args)
    )


def _groups() -> GroupCommit:
    return per_process("buy_groups", lambda: GroupCommit(_run_group))


def _accepted_body(
    outcome: str, order_id: str, sale_id: int, user_id: str, quantity: int, accepted_ms: int
) -> bytes:
    return _body(
        outcome,
        order_id=order_id,
        sale_id=sale_id,
        user_id=user_id,
        quantity=quantity,
        accepted_at_ms=accepted_ms,
    )


def _replay(record: str, fingerprint: str, sale_id: int, user_id: str, quantity: int) -> BuyResult:
    """A key decided before: the same outcome and body, or 422 if the request differs."""
    stored_fingerprint, outcome, order_id, decided_ms = record.split("|", 3)
    if stored_fingerprint != fingerprint:
        return _refusal(Outcome.KEY_REUSED, sale_id)
    if outcome == Outcome.ACCEPTED:
        return BuyResult(
            Outcome.ACCEPTED,
            _accepted_body(Outcome.ACCEPTED, order_id, sale_id, user_id, quantity, int(decided_ms)),
        )
    return _refusal(outcome, sale_id)


def forget_sold_out_flags() -> None:
    """Tests: start each from a process that has seen nothing."""
    _sold_out_flags.clear()


# The SKU lookup of POST /order, run like buy.lua on the thread's own connection:
# through redis-py's pool it cost about as much CPU as the sold-out answer itself.
SKU_LOOKUP = "return redis.call('GET', KEYS[1])"
SKU_CACHE_SECONDS = keys.SKU_CACHE_MS / 1000

# Per process: (owner, sku) -> (kept until, monotonic s; sale id). Only found sales
# are kept, so a sale going live is seen at once; a bounded dict, since anyone can
# send SKUs (unknown ones are never kept, each costs its round trip).
_sku_routes: dict[tuple[str, str], tuple[float, int]] = {}
_MAX_SKU_ROUTES = 4096


def sale_id_for_sku(owner: int | str, sku: str) -> Steps[int | None]:
    """The open sale of merchant `owner` (an id, or keys.DEMO_SKU_OWNER) selling
    `sku` (seed-compatible POST /order): from memory for up to a second, else from Redis
    (a step: the front awaits it, the lane blocks on it).

    A route kept here can outlive the sale's hold on the SKU by that second: after
    /init replaces a sale, this process may still send the SKU's buyers to the old
    one (which answers ended, or sold out). That is safe because the new sale opens
    only after every process has forgotten the old route (sales/live.py, live_arm):
    no key can have bought in the new sale while any process routes it to the old."""
    route = (str(owner), sku)
    now = time.monotonic()  # before the lookup: the route is kept a second from then at most
    kept = _sku_routes.get(route)
    if kept is not None and kept[0] > now:
        return kept[1]
    raw = yield Read("sku", SKU_LOOKUP, (keys.sku_key(owner, sku),))
    if not raw or raw == keys.SKU_RELEASED.encode():
        return None
    if len(_sku_routes) >= _MAX_SKU_ROUTES:
        _sku_routes.clear()
    sale_id = int(raw)
    _sku_routes[route] = (now + SKU_CACHE_SECONDS, sale_id)
    return sale_id


def forget_sku_routes() -> None:
    """Tests: a process that has routed nothing yet."""
    _sku_routes.clear()
