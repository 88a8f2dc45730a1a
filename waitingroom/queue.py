"""The waiting room's queue, in Redis: one place per shopper per sale, admitted
in order at the sale's admission rate.

    queue_join       take a place (or get one's place back): waitingroom/lua/join.lua
    queue_present    the shopper's websocket opened (or re-asserts itself)
    queue_present_many  many open websockets re-assert themselves at once
    queue_absent     its websocket closed
    queue_polled     its page polled (the fallback when websockets fail)
    queue_place      where a shopper stands, read only: waitingroom/lua/place.lua
    queue_admit      one admission tick of one sale (the admitter's): waitingroom/lua/admit.lua

The keys are in sales/keys.py (`queue:*`); buy.lua reads two of them (who waits,
who was admitted). Presence decides who is admitted: the admitter admits a
shopper only while its page is there to receive the admission (an open
websocket, or a poll within PRESENCE_MS), passes over one that is away without
taking its place (its page closed or reloading, or never opened since it
joined), and skips one gone longer than the grace period
(WAITING_ROOM_GRACE_SECONDS). A page keeps its shopper present by calling
queue_present when its websocket opens and again every few seconds (a shopper
with two tabs who closes one is marked gone until the other says it is there),
queue_absent when it closes, and queue_polled on every poll.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import redis
from django.conf import settings

from infra.clients import lua_source, redis_client, redis_script
from infra.errors import ServiceUnavailable
from sales import keys

LUA_DIR = Path(__file__).resolve().parent / "lua"
# Shoppers per command when many sockets renew their presence at once.
RENEW_CHUNK = 1000
# A page that polled this recently counts as there (the polling page polls well within it).
PRESENCE_MS = 5000
# The most places one tick looks at, so that one tick never holds Redis long.
SCAN_LIMIT = 2000
# The longest stretch of time one tick admits for: after the admitter was away
# (a restart, a hand-over), the queue resumes at its rate instead of in a burst.
LONGEST_TICK_MS = 1000

JOIN_KEYS = ("seq", "waiting", "gone", "admitted", "addresses", "address_of", "serving", "draw", "turns")
ADMIT_KEYS = (
    "waiting", "gone", "admitted", "expiry", "serving", "stats", "addresses", "address_of", "polled",
    "draw", "turns",
)  # fmt: skip


class PlaceStatus(StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"  # holds an admission: the page fetches its token (waitingroom/admission.py)
    NONE = "none"  # holds no place (never joined, skipped, or its admission was spent)
    # join refused:
    NOT_FOUND = "not_found"
    SOLD_OUT = "sold_out"
    ENDED = "ended"
    ADDRESS_FULL = "address_full"  # the client address holds its cap of places at once
    ADDRESS_DONE = "address_done"  # ... had the sale's admissions_per_address turns (places included)
    PROOF_REQUIRED = "proof_required"  # the cookie carries less proof of work than the sale asks
    NOT_OPEN = "not_open"  # the sale's line (its pre-queue) opens later: opens_ms


@dataclass(frozen=True, slots=True)
class Place:
    """Where a shopper stands in a sale's queue."""

    status: PlaceStatus
    ticket: int | None = None
    ahead: int | None = None  # places before this one (waiting)
    serving: int | None = None  # the highest ticket admitted so far (waiting)
    joined: bool = False  # this call gave the place (a new ticket at the back)
    expires_ms: int | None = None  # the admission's end (admitted), on Redis's clock
    left_ms: int | None = None  # the turn's time left (admitted); while paused, frozen
    paused: bool = False  # admitted, and the sale is paused: the turn's clock stands still
    opens_ms: int | None = None  # not_open: when the line opens, on Redis's clock


@dataclass(frozen=True, slots=True)
class Draw:
    """The pre-queue's shuffle at the start (admit.lua 4b), as Redis recorded it."""

    drawn_ms: int
    seed: str
    entrants: int
    joined_digest: str  # SHA-1 of the shopper ids in join order, one per line
    drawn_digest: str  # ... and in the order drawn

    def as_record(self) -> dict[str, object]:
        return {
            "drawn_ms": self.drawn_ms,
            "seed": self.seed,
            "entrants": self.entrants,
            "joined_digest": self.joined_digest,
            "drawn_digest": self.drawn_digest,
        }


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """One tick of one sale's queue: what the admitter broadcasts."""

    sale_id: int
    status: str  # live, scheduled, paused, sold_out, ended
    serving: int
    waiting: int
    remaining: int
    quantity: int  # the units on sale, restocks included
    admission_rate: int
    admitted: int  # this tick
    skipped: int  # this tick
    admitted_per_s: float  # smoothed over about 5 s
    now_ms: int
    drawn_ms: int = 0  # when the pre-queue was shuffled (0: it was not, or there was none)
    draw: Draw | None = None  # that shuffle, until PostgreSQL has recorded it


def _run(name: str, *, keys: list[str], args: list[object]) -> object:
    script = redis_script(f"waitingroom:{name}", lua_source(LUA_DIR / f"{name}.lua"))
    try:
        return script(keys=keys, args=args)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error


def _now(now_ms: int | None) -> str:
    """The scripts read Redis's clock unless a test gives them its own."""
    return "" if now_ms is None else str(now_ms)


def _grace_ms() -> int:
    return settings.WAITING_ROOM_GRACE_SECONDS * 1000


def queue_join(
    *,
    sale_id: int,
    shopper: str,
    client_address: str | None = None,
    proof_bits: int | None = None,
    now_ms: int | None = None,
) -> Place:
    """Take a place at the back of the sale's queue, or get back the one the
    shopper holds (a refresh keeps it). A sold-out or ended sale takes no one; a
    paused or not yet started one does. Until its page connects or polls, the
    new place counts as away (see the module doc). `client_address` (grouped,
    identity.address_group) is what the caps per address count; `proof_bits`, the
    proof of work the shopper's cookie carries (None: not checked)."""
    result = _run(
        "join",
        keys=[keys.state_key(sale_id), *keys.queue_keys(sale_id, *JOIN_KEYS)],
        args=[
            shopper,
            _now(now_ms),
            client_address or "",
            settings.WAITING_ROOM_JOINS_PER_ADDRESS,
            "" if proof_bits is None else proof_bits,
        ],
    )
    return _place(result)  # type: ignore[arg-type]


def _presence(sale_id: int, shopper: str, event: str, now_ms: int | None) -> bool:
    return bool(
        _run(
            "presence",
            keys=keys.queue_keys(sale_id, "waiting", "gone", "polled"),
            args=[shopper, event, _now(now_ms)],
        )
    )


def queue_present(*, sale_id: int, shopper: str) -> bool:
    """The shopper's websocket is open: present until queue_absent. Returns
    whether the shopper holds a place (a page may connect before it joins)."""
    return _presence(sale_id, shopper, "connect", None)


def queue_present_many(*, sale_id: int, shoppers: Collection[str]) -> None:
    """Many open websockets say again that their shoppers are there (a daphne
    process renews all of its sockets of a sale at once: waitingroom/fanout.py).
    What queue_present does for each (presence.lua's connect: no longer gone, no
    longer only polled), in one round trip for up to RENEW_CHUNK shoppers."""
    gone, polled = keys.queue_keys(sale_id, "gone", "polled")
    pipe = redis_client().pipeline(transaction=False)
    shoppers = list(shoppers)
    for first in range(0, len(shoppers), RENEW_CHUNK):
        chunk = shoppers[first : first + RENEW_CHUNK]
        pipe.zrem(gone, *chunk)
        pipe.zrem(polled, *chunk)
    try:
        pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error


def queue_absent(*, sale_id: int, shopper: str, now_ms: int | None = None) -> bool:
    """The shopper's websocket closed: last seen now (skipped after the grace period)."""
    return _presence(sale_id, shopper, "disconnect", now_ms)


def queue_polled(*, sale_id: int, shopper: str, now_ms: int | None = None) -> bool:
    """The shopper's page polled: last seen now. An open websocket outranks it."""
    return _presence(sale_id, shopper, "poll", now_ms)


def _place(result: list) -> Place:
    """A Place from join.lua's or place.lua's answer."""
    status = PlaceStatus(result[0].decode())
    if status == PlaceStatus.WAITING:
        ticket, ahead, serving, *joined = result[1:]
        return Place(status, ticket=ticket, ahead=ahead, serving=serving, joined=bool(joined and joined[0]))
    if status == PlaceStatus.ADMITTED:
        ticket, expires_ms, *turn = result[1:]
        left_ms, paused = turn if turn else (None, 0)  # join.lua says when, place.lua how long
        return Place(status, ticket=ticket, expires_ms=expires_ms, left_ms=left_ms, paused=bool(paused))
    if status == PlaceStatus.NOT_OPEN:
        return Place(status, opens_ms=result[1])
    return Place(status)


def queue_place(*, sale_id: int, shopper: str, now_ms: int | None = None) -> Place:
    """Where the shopper stands, without changing anything (waitingroom/lua/place.lua):
    waiting (ticket, places ahead), admitted (until when), or no place."""
    result = _run(
        "place",
        keys=[*keys.queue_keys(sale_id, "waiting", "admitted", "serving"), keys.state_key(sale_id)],
        args=[shopper, _now(now_ms)],
    )
    return _place(result)  # type: ignore[arg-type]


def queue_admit(
    *, sale_id: int, now_ms: int | None = None, longest_ms: int = LONGEST_TICK_MS
) -> QueueFigures | None:
    """One admission tick of the sale's queue (see waitingroom/lua/admit.lua for
    its steps). None when the sale has no live state."""
    result = _run(
        "admit",
        keys=[keys.state_key(sale_id), *keys.queue_keys(sale_id, *ADMIT_KEYS)],
        args=[
            _now(now_ms),
            _grace_ms(),
            min(PRESENCE_MS, _grace_ms()),
            settings.ADMISSION_TOKEN_SECONDS * 1000,
            secrets.token_hex(8) + ".",  # the nonces of this tick's admissions: unguessable, unique
            SCAN_LIMIT,
            longest_ms,
            secrets.token_hex(16),  # the pre-queue's shuffle, if this tick draws it
        ],
    )
    if result[0] == b"not_found":  # type: ignore[index]
        return None
    status, serving, waiting, remaining, rate, admitted, skipped, per_s, now, quantity, draw, drawn = result  # type: ignore[misc]
    return QueueFigures(
        sale_id=sale_id,
        status=status.decode(),
        serving=serving,
        waiting=waiting,
        remaining=remaining,
        quantity=quantity,
        admission_rate=rate,
        admitted=admitted,
        skipped=skipped,
        admitted_per_s=float(per_s),
        now_ms=now,
        drawn_ms=drawn,
        draw=_draw(draw) if draw else None,
    )


def _draw(fields: list[bytes]) -> Draw:
    drawn_ms, seed, entrants, joined_digest, drawn_digest = (value.decode() for value in fields)
    return Draw(int(drawn_ms), seed, int(entrants), joined_digest, drawn_digest)


def queue_draw_recorded(*, sale_id: int) -> None:
    """PostgreSQL holds the sale's draw: the ticks stop handing it to the admitter."""
    try:
        redis_client().hset(keys.queue_key(sale_id, "draw"), "recorded", 1)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
