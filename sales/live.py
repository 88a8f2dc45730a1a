"""A sale's live state in Redis: the gate the buy API decides against.

PostgreSQL holds what a sale *is*; this module writes what it *has left*.
Every write here is one Lua script, so a concurrent buy sees either the old
state or the new one, never half of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import redis
from django.conf import settings

from infra.clients import lua_source, redis_client, redis_script
from infra.errors import ServiceUnavailable
from sales import keys
from sales.models import Sale

LUA_DIR = Path(__file__).resolve().parent / "lua"


def _redis_call(operation: Callable[[redis.Redis], object]) -> object:
    """Every call of this module goes through here: a Redis failure becomes
    ServiceUnavailable, which the edges answer 503."""
    try:
        return operation(redis_client())
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error


def run_script(name: str, *, keys: list[str], args: list[object]) -> object:
    """Run sales/lua/<name>.lua."""
    script = redis_script(name, lua_source(LUA_DIR / f"{name}.lua"))
    return _redis_call(lambda _client: script(keys=keys, args=args))


def to_ms(moment: datetime | None) -> int:
    """Epoch milliseconds, 0 for "no bound"."""
    return int(moment.timestamp() * 1000) if moment else 0


@dataclass(frozen=True)
class LiveState:
    status: str
    remaining: int
    sold: int
    quantity: int
    per_user_limit: int
    rate: int
    burst: int
    admission_rate: int
    starts_ms: int
    ends_ms: int
    unit_price: Decimal
    currency: str
    sku: str


def _config(sale: Sale) -> list[object]:
    return [
        "quantity", sale.quantity,
        "per_user_limit", sale.per_user_limit,
        "units_per_address", sale.units_per_address,
        "admissions_per_address", sale.admissions_per_address,
        "proof_bits", sale.proof_bits,
        "rate", sale.rate,
        "burst", sale.burst,
        "admission_rate", sale.admission_rate,
        "starts_ms", to_ms(sale.starts_at),
        "ends_ms", to_ms(sale.ends_at),
        "queue_opens_ms", to_ms(sale.queue_opens_at),
        "unit_price", str(sale.unit_price),
        "currency", sale.currency,
        "sku", sale.sku,
        # buy.lua refuses a storefront's shopper token on another merchant's sale
        "merchant_id", sale.merchant_id,
    ]  # fmt: skip


def live_arm(*, sale: Sale, status: str, remaining_if_new: int) -> tuple[int, int, bool]:
    """Write the sale's configuration and status; create its stock only if the
    sale has no state yet; then point its SKU at it. Returns (remaining, sold, created).

    Web processes route POST /order's SKU from memory for up to keys.SKU_CACHE_MS.
    A sale that takes the SKU over from another sale (which held it until moments
    ago: the key still names it, or its release mark has not expired) therefore
    opens only once every process has forgotten the old one; before, each buy is
    not_started and nothing is recorded. Else a key could buy in this sale through
    one process and be answered by the old sale through another."""
    sku_keys = _sku_keys(sale)
    held = _redis_call(lambda client: client.mget(sku_keys))
    taken_over = any(value is not None and value != str(sale.pk).encode() for value in held)
    opens_in_ms = keys.SKU_CACHE_MS + 100 if taken_over else 0
    remaining, sold, created = run_script(
        "arm",
        keys=[keys.state_key(sale.pk)],
        args=[status, remaining_if_new, *_config(sale), "opens_in_ms", opens_in_ms],
    )
    _redis_call(lambda client: client.mset({key: sale.pk for key in sku_keys}))
    return int(remaining), int(sold), bool(created)


def _sku_keys(sale: Sale) -> list[str]:
    """Where the seed's /order finds the sale by SKU: its merchant's namespace, and
    the demo namespace for the demo merchant's sales."""
    found = [keys.sku_key(sale.merchant_id, sale.sku)]
    if sale.merchant.get_username() == settings.FLUX_DEMO_MERCHANT:
        found.append(keys.sku_key(keys.DEMO_SKU_OWNER, sale.sku))
    return found


def live_release_sku(*, sale: Sale) -> None:
    """The sale no longer sells its SKU (it ended). Only this sale's entries are
    released: the row lock held by the caller keeps any other sale of the merchant's
    SKU from going live meanwhile (one open sale per SKU and merchant). A released
    key says "no sale" for as long as a process may still route to this one
    (keys.SKU_RELEASED), so that the next sale of the SKU knows to wait (live_arm)."""

    def release(client: redis.Redis) -> None:
        for key in _sku_keys(sale):
            if client.get(key) == str(sale.pk).encode():
                client.set(key, keys.SKU_RELEASED, px=keys.SKU_CACHE_MS + 100)

    _redis_call(release)


def live_set_status(
    *, sale_id: int, status: str, ends_at: datetime | None = None, now_ms: int | None = None
) -> str | None:
    """Set the status; return the previous one, or None when there is no state. A
    pause stops the waiting room's turns, the resume gives them their time back
    (sales/lua/set_status.lua); `now_ms` replaces Redis's clock (tests)."""
    previous = run_script(
        "set_status",
        keys=[keys.state_key(sale_id), *keys.queue_keys(sale_id, "admitted", "expiry")],
        args=[status, to_ms(ends_at) if ends_at else "", "" if now_ms is None else now_ms],
    )
    return previous.decode() if previous else None


def live_set_rates(*, sale_id: int, rates: dict[str, int]) -> bool:
    """Write new rates (rate, burst, admission_rate) into a sale's live state, at
    once: the next buy and the next admission tick use them. False when the sale
    has no live state."""
    pairs = [item for name_value in rates.items() for item in name_value]
    return bool(run_script("set_rates", keys=[keys.state_key(sale_id)], args=pairs))


def live_restock(*, sale_id: int, units: int) -> tuple[int, int] | None:
    result = run_script("restock", keys=[keys.state_key(sale_id)], args=[units, keys.SOLD_OUT_FLAG_MS + 100])
    return (int(result[0]), int(result[1])) if result else None


def live_expire(*, sale_id: int, seconds: int) -> int:
    """Let everything the (ended) sale keeps in Redis expire in `seconds`: its
    state, bucket, shoppers, ledger, accepted keys and waiting room. Returns how
    many keys got an expiry (0: the sale has no state)."""
    sale_keys = [keys.state_key(sale_id), keys.bucket_key(sale_id), *keys.all_keys(sale_id)[2:]]
    sale_keys += keys.queue_keys(sale_id, *keys.QUEUE_PARTS)
    counters = [sale_keys.index(keys.counts_key(sale_id)) + 1, sale_keys.index(keys.latency_key(sale_id)) + 1]
    return int(run_script("expire", keys=sale_keys, args=[seconds, *counters]))  # type: ignore[call-overload]


def live_forget(*, sale_id: int) -> None:
    """Delete a sale's fixed keys (a scheduled sale edited before it sold anything)."""
    _redis_call(lambda client: client.delete(*keys.all_keys(sale_id)))


def _decode(raw: dict[bytes, bytes]) -> LiveState:
    text = {k.decode(): v.decode() for k, v in raw.items()}
    return LiveState(
        status=text["status"],
        remaining=int(text["remaining"]),
        sold=int(text["sold"]),
        quantity=int(text["quantity"]),
        per_user_limit=int(text["per_user_limit"]),
        rate=int(text["rate"]),
        burst=int(text["burst"]),
        admission_rate=int(text["admission_rate"]),
        starts_ms=int(text["starts_ms"]),
        ends_ms=int(text["ends_ms"]),
        unit_price=Decimal(text["unit_price"]),
        currency=text["currency"],
        sku=text["sku"],
    )


def live_states(sale_ids: list[int]) -> dict[int, LiveState | None]:
    """The live state of several sales in one round trip (None: no state)."""
    if not sale_ids:
        return {}

    def read(client: redis.Redis) -> list:
        pipe = client.pipeline(transaction=False)
        for sale_id in sale_ids:
            pipe.hgetall(keys.state_key(sale_id))
        return pipe.execute()

    raw_states: list = _redis_call(read)  # type: ignore[assignment]
    return {
        sale_id: (_decode(raw) if raw else None) for sale_id, raw in zip(sale_ids, raw_states, strict=True)
    }


def live_state(sale_id: int) -> LiveState | None:
    return live_states([sale_id])[sale_id]
