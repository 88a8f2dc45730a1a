"""The buy path's I/O, as steps: what the decision and the edge ask for, written once.

The edge (edge.py), the shopper's identity (identity.py) and the decision
(decision.py) are generators that yield each piece of I/O they need and are sent
its result (or have its exception thrown in where they asked). Two drivers run
them: decision.run_sync with blocking calls on the calling thread (the WSGI lane,
Django), and the asyncio front (front.py) with awaits on its event loop. So the
logic, its order and its answers cannot drift apart between the servers.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Read:
    """A small Lua script's reply (a lookup a process keeps for a while: a SKU's sale,
    a storefront key); `name` identifies the script for the drivers' caches."""

    name: str
    source: str
    keys: tuple[str, ...]
    args: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class KafkaAvailable:
    """Is the order log known to be up? (bool, no I/O)"""


@dataclass(frozen=True, slots=True)
class Decide:
    """buy.lua's result for this buy, in a group with the sale's others (group.py)."""

    sale_id: int
    idempotency_key: str
    args: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Publish:
    """Produce the order's message and wait, bounded, for Kafka's acknowledgement
    (True: acknowledged; False: not in time; KafkaException: a definite refusal)."""

    key: bytes
    value: bytes


Step = Read | KafkaAvailable | Decide | Publish
Steps = Generator[Step, object, T]


def run_reads(steps: Steps[T]) -> T:
    """Drive steps that only Read, blocking (identity's callers outside the buy path)."""
    from infra.clients import hot_script

    try:
        step = next(steps)
        while True:
            assert isinstance(step, Read), step
            try:
                value = hot_script(step.name, step.source)(keys=list(step.keys), args=list(step.args))
            except Exception as error:
                step = steps.throw(error)
                continue
            step = steps.send(value)
    except StopIteration as done:
        return done.value
