"""The Redis key layout of a sale. Every key of one sale shares the hash tag
``{<sale id>}`` so that each script, which touches several keys of one sale,
runs unchanged on Redis Cluster (all its keys land in one slot).

    fg:{42}:state            hash: status, remaining, sold, quantity, per_user_limit,
                             rate, burst, admission_rate, starts_ms, ends_ms (0 = none),
                             unit_price, currency, sku, reopen_ms (restock pause)
    fg:{42}:bucket           hash: tokens, ts (µs, Redis TIME) — the buy API's token bucket
    fg:{42}:users            hash: user id -> units bought (per-user limit)
    fg:{42}:idem:<key>       string: the stored outcome for one idempotency key
    fg:{42}:ledger           hash: order id -> reservation (JSON), the commit point of an order
    fg:{42}:pending          sorted set: order id by acceptance time, not yet persisted
    fg:{42}:accepted         set: the idempotency keys that bought (for the sold-out flag)
    fg:sku:<sku>             string: id of the open sale selling <sku>
"""

from __future__ import annotations

PREFIX = "fg"
# How long a web process may answer sold_out from memory (orders/buy/decision.py);
# a restock of a sold-out sale reopens it only after this (sales/lua/restock.lua).
SOLD_OUT_FLAG_MS = 1000


def sale_tag(sale_id: int) -> str:
    return f"{PREFIX}:{{{sale_id}}}"


def state_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:state"


def bucket_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:bucket"


def users_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:users"


def buy_script_keys(sale_id: int, idempotency_key: str) -> list[str]:
    """KEYS of orders/buy/buy.lua, in its order."""
    return [
        state_key(sale_id),
        bucket_key(sale_id),
        users_key(sale_id),
        idempotency_key_key(sale_id, idempotency_key),
        ledger_key(sale_id),
        pending_key(sale_id),
        accepted_keys_key(sale_id),
    ]


def idempotency_key_key(sale_id: int, idempotency_key: str) -> str:
    return f"{sale_tag(sale_id)}:idem:{idempotency_key}"


def ledger_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:ledger"


def pending_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:pending"


def accepted_keys_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:accepted"


def sku_key(sku: str) -> str:
    """SKU -> id of the open sale selling it (the seed-compatible POST /order).
    Not hash-tagged: no script touches it together with a sale's keys."""
    return f"{PREFIX}:sku:{sku}"


def all_keys(sale_id: int) -> list[str]:
    """The fixed keys of a sale (idempotency keys are found by pattern)."""
    return [
        state_key(sale_id),
        bucket_key(sale_id),
        users_key(sale_id),
        ledger_key(sale_id),
        pending_key(sale_id),
        accepted_keys_key(sale_id),
    ]
