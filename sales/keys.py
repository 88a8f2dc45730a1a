"""The Redis key layout of a sale. Every key of one sale shares the hash tag
``{<sale id>}`` so that each script, which touches several keys of one sale,
runs unchanged on Redis Cluster (all its keys land in one slot).

    fg:{42}:state            hash: status, remaining, sold, quantity, per_user_limit,
                             rate, burst, admission_rate, starts_ms, ends_ms (0 = none),
                             unit_price, currency, sku, merchant_id, reopen_ms (restock pause),
                             units_per_address, admissions_per_address, proof_bits (issue 22),
                             queue_opens_ms (0: the line takes joiners whenever the sale
                             is scheduled),
                             opens_ms (a SKU taken over: not before, see SKU_CACHE_MS),
                             paused_ms (while paused: when the pause began; the waiting
                             room's turns stand still from then, sales/lua/set_status.lua)
    fg:{42}:bucket           hash: tokens, ts (µs, Redis TIME) — the buy API's token bucket
    fg:{42}:users            hash: user id -> units bought (per-user limit); and "@" + client
                             address -> the units its hosted pages' shoppers bought
                             (units_per_address)
    fg:{42}:idem:<key>       string: the stored outcome for one idempotency key
    fg:{42}:ledger           hash: order id -> reservation (JSON), the commit point of an order
    fg:{42}:pending          sorted set: order id by acceptance time, not yet persisted
    fg:{42}:accepted         set: the idempotency keys that bought (for the sold-out flag)
    fg:{42}:counts           hash: outcome -> buy decisions so far (cumulative). buy.lua adds
                             one per decision it makes; each web process adds what it
                             answered without buy.lua (orders/buy/tally.py, once a second)
    fg:{42}:latency          hash: the buy path's duration histogram (cumulative), bucket's
                             upper bound in ms -> requests, and sum_us (orders/buy/tally.py)
    fg:{42}:proof:<id>       string: a proof-of-work challenge answered already (one cookie
                             per challenge), until the challenge expires
    fg:{42}:dashboard        list: the live dashboard's points, oldest first, one a second
                             (JSON; dashboard/ticker.py appends, bounded, expires after the sale)
    fg:sku:<merchant>:<sku>  string: id of the merchant's open sale selling <sku>; <merchant>
                             is the merchant's id, and also "demo" for the demo merchant's
                             (FLUX_DEMO_MERCHANT) sales, whom the seed's anonymous /order reaches;
                             "0" (SKU_RELEASED) for a second after that sale ended
    fg:storefront-keys       hash: storefront key id -> "<merchant id>|<secret>", the mirror
                             of sales.StorefrontKey the buy path reads (orders/buy/identity.py)

The waiting room's queue (waitingroom/queue.py; buy.lua reads waiting and admitted):

    fg:{42}:queue:seq        string: the last ticket handed out (INCR)
    fg:{42}:queue:waiting    sorted set: shopper id by ticket, the queue in order
    fg:{42}:queue:gone       sorted set: waiting shopper id by the ms its page went away
                             (its websocket closed) or last polled; minus its join's ms
                             if it has not been seen since it joined. A shopper with an
                             open websocket is not in it
    fg:{42}:queue:polled     sorted set: waiting shopper id by the ms of its last poll
    fg:{42}:queue:addresses  hash: client address -> places it holds (the per-address cap)
    fg:{42}:queue:address_of hash: waiting shopper id -> the client address it joined from
    fg:{42}:queue:turns      hash: client address -> turns (admissions) given to it in this
                             sale, for the sale's admissions_per_address
    fg:{42}:queue:admitted   hash: shopper id -> nonce|expires_ms|ticket, an admission
    fg:{42}:queue:expiry     sorted set: shopper id by its admission's expiry (purging)
    fg:{42}:queue:serving    string: the highest ticket admitted so far
    fg:{42}:queue:stats      hash: admitted_total, skipped_total, last_tick_ms, carry,
                             admitted_per_s
    fg:{42}:queue:draw       hash: the pre-queue and its shuffle at the start (join.lua,
                             admit.lua): last_ticket (the last place given before the
                             start), then drawn_ms, seed, entrants, joined_digest,
                             drawn_digest, and recorded once PostgreSQL has it
    fg:admitter:lease        string: the leading admitter's id (SET NX PX, renewed)
    fg:dashboard:lease       string: the leading dashboard ticker's id (same script)
"""

from __future__ import annotations

PREFIX = "fg"
# How long a web process may answer sold_out from memory (orders/buy/decision.py);
# a restock of a sold-out sale reopens it only after this (sales/lua/restock.lua).
SOLD_OUT_FLAG_MS = 1000
# How long a web process may route POST /order's SKU to a sale from memory, under the
# same rule: a sale that takes a SKU over from another opens only after this (plus a
# margin), so that no key buys in it while a process could still route to the old one
# (sales/live.py, live_arm; orders/buy/decision.py, sale_id_for_sku). Short, because
# the crowd of the seed's scripts hits the new sale right after POST /init, and every
# buy before it opens costs a round trip to be sent to the waiting room; a route read
# again four times a second costs each process four GETs.
SKU_CACHE_MS = 250
# The value a released SKU key holds for SKU_CACHE_MS: "no sale", and a sign for
# the next sale that another one held the SKU moments ago.
SKU_RELEASED = "0"


def sale_tag(sale_id: int) -> str:
    return f"{PREFIX}:{{{sale_id}}}"


def state_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:state"


def bucket_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:bucket"


def users_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:users"


def buy_script_keys(sale_id: int, *idempotency_keys: str) -> list[str]:
    """KEYS of orders/buy/buy.lua, in its order: the sale's keys, then one
    idempotency record per decision of the group, in the group's order."""
    return [
        state_key(sale_id),
        bucket_key(sale_id),
        users_key(sale_id),
        ledger_key(sale_id),
        pending_key(sale_id),
        accepted_keys_key(sale_id),
        queue_key(sale_id, "waiting"),
        queue_key(sale_id, "admitted"),
        counts_key(sale_id),
        *(idempotency_key_key(sale_id, key) for key in idempotency_keys),
    ]


QUEUE_PARTS = (
    "seq", "waiting", "gone", "polled", "addresses", "address_of", "admitted", "expiry", "serving",
    "stats", "draw", "turns",
)  # fmt: skip


def queue_key(sale_id: int, part: str) -> str:
    """One key of a sale's waiting-room queue (`part`: one of QUEUE_PARTS)."""
    if part not in QUEUE_PARTS:
        raise ValueError(f"no queue key {part!r}")
    return f"{sale_tag(sale_id)}:queue:{part}"


def queue_keys(sale_id: int, *parts: str) -> list[str]:
    """Keys of a sale's queue in the order given: a script's KEYS."""
    return [queue_key(sale_id, part) for part in parts]


# Not hash-tagged: one lease for the admitters of every sale; no script touches
# it together with a sale's keys.
ADMITTER_LEASE_KEY = f"{PREFIX}:admitter:lease"
DASHBOARD_LEASE_KEY = f"{PREFIX}:dashboard:lease"


def idempotency_key_key(sale_id: int, idempotency_key: str) -> str:
    return f"{sale_tag(sale_id)}:idem:{idempotency_key}"


def ledger_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:ledger"


def pending_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:pending"


def replicated_mark_key(sale_id: int) -> str:
    """A short-lived string the re-publisher writes, then WAITs for, before it hands a
    sale's reservations to Kafka (HA: they must be on a replica first; orders/republish.py)."""
    return f"{sale_tag(sale_id)}:replicated"


def accepted_keys_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:accepted"


def counts_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:counts"


def latency_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:latency"


def dashboard_key(sale_id: int) -> str:
    return f"{sale_tag(sale_id)}:dashboard"


# The SKU namespace of the demo merchant (FLUX_DEMO_MERCHANT): what the seed's /order
# reaches when no storefront token names a merchant.
DEMO_SKU_OWNER = "demo"


def sku_key(owner: int | str, sku: str) -> str:
    """A merchant's SKU -> id of their open sale selling it (the seed-compatible
    POST /order). `owner`: the merchant's id, or DEMO_SKU_OWNER. Not hash-tagged:
    no script touches it together with a sale's keys."""
    return f"{PREFIX}:sku:{owner}:{sku}"


def proof_spent_key(sale_id: int, challenge_id: str) -> str:
    """A sale's proof-of-work challenge that minted a cookie already (waitingroom/shopper.py):
    each is answered once. Expires with the challenge."""
    return f"{sale_tag(sale_id)}:proof:{challenge_id}"


def storefront_keys_key() -> str:
    """The storefront keys' mirror (sales/storefront.py writes it, the buy path reads it).
    Not hash-tagged: read on its own, never in a script with a sale's keys."""
    return f"{PREFIX}:storefront-keys"


def all_keys(sale_id: int) -> list[str]:
    """The fixed keys of a sale (idempotency keys are found by pattern)."""
    return [
        state_key(sale_id),
        bucket_key(sale_id),
        users_key(sale_id),
        ledger_key(sale_id),
        pending_key(sale_id),
        accepted_keys_key(sale_id),
        counts_key(sale_id),
        latency_key(sale_id),
        dashboard_key(sale_id),
    ]
