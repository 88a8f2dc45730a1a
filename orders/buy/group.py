"""Group commit of buy decisions: the buys of one sale that reach a web process
while its previous call of buy.lua is in flight are decided together, by the
next call, in the order they arrived (as databases group the commits waiting
for one fsync).

The first buy of a sale to arrive leads: it sends the group (itself, and any
buy that joined meanwhile), hands each member its own result, and passes the
lead to the first buy that arrived during its call, if any. The others wait
on their own event. So there is at most one call in flight per sale and
process, and every call carries everything that waited for it.

What this changes, and what it does not:
- each buy is decided by buy.lua exactly as before, atomically and in arrival
  order: a group is one script run, and Redis runs one script at a time;
- the round trip, the EVALSHA and Redis's own overhead per call are shared by
  the group (a process's 8 threads, under load, send groups of several);
- a buy alone, or the first after a quiet moment, goes at once: nothing waits
  for a group to fill up.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence

# runs one call for (sale id, the group's idempotency keys, the group's arguments)
# and returns one result per member, in order
Run = Callable[[int, Sequence[str], Sequence[object]], list]


class _Member:
    __slots__ = ("args", "error", "event", "key", "leads", "result")

    def __init__(self, key: str, args: Sequence[object]) -> None:
        self.key = key
        self.args = args
        self.result: object = None
        self.error: BaseException | None = None
        # Only a member that waits has one: a lock taken at birth, released when its
        # result is in (or the lead is passed to it); lighter than threading.Event.
        self.event: threading.Lock | None = None
        self.leads = False


class GroupCommit:
    def __init__(self, run: Run) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._waiting: dict[int, list[_Member]] = {}  # sale id -> members for the next call
        self._in_flight: set[int] = set()  # sales with a call on its way

    def decide(self, sale_id: int, key: str, args: Sequence[object]) -> object:
        """This buy's result from buy.lua (or its exception), decided in a group."""
        member = _Member(key, args)
        with self._lock:
            self._waiting.setdefault(sale_id, []).append(member)
            leads = sale_id not in self._in_flight
            if leads:
                self._in_flight.add(sale_id)
            else:
                member.event = threading.Lock()
                member.event.acquire()
        if not leads:
            member.event.acquire()
            if not member.leads:
                return _outcome(member)
        self._lead(sale_id)
        return _outcome(member)

    def _lead(self, sale_id: int) -> None:
        with self._lock:
            group = self._waiting.pop(sale_id)
        try:
            results = self._run(sale_id, [m.key for m in group], [arg for m in group for arg in m.args])
            for member, result in zip(group, results, strict=True):
                member.result = result
        except BaseException as error:  # each member answers it as if it had called alone
            for member in group:
                member.error = error
        following_leader = None
        with self._lock:
            following = self._waiting.get(sale_id)
            if following:
                following_leader = following[0]
                following_leader.leads = True
            else:
                self._in_flight.discard(sale_id)
        for member in group:
            if member.event is not None:  # (the leader's own, if it was handed the lead: harmless)
                member.event.release()
        if following_leader is not None:
            following_leader.event.release()


def _outcome(member: _Member) -> object:
    if member.error is not None:
        raise member.error
    return member.result


# --- on an event loop (orders/buy/front.py) ------------------------------------------

# awaits one call for (sale id, the group's idempotency keys, the group's arguments)
AsyncRun = Callable[[int, Sequence[str], Sequence[object]], Awaitable[list]]


class AsyncGroupCommit:
    """The same group commit for buys waiting on one event loop: no locks (the loop
    runs one thing at a time), a future per buy, and one task per sale that sends
    group after group for as long as buys keep arriving during its calls."""

    def __init__(self, run: AsyncRun) -> None:
        self._run = run
        self._waiting: dict[int, list[tuple[str, Sequence[object], asyncio.Future[object]]]] = {}
        self._leaders: dict[int, asyncio.Task[None]] = {}  # sales with a call on its way

    async def decide(self, sale_id: int, key: str, args: Sequence[object]) -> object:
        """This buy's result from buy.lua (or its exception), decided in a group."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[object] = loop.create_future()
        self._waiting.setdefault(sale_id, []).append((key, args, result))
        if sale_id not in self._leaders:
            self._leaders[sale_id] = loop.create_task(self._lead(sale_id))
        return await result

    async def _lead(self, sale_id: int) -> None:
        try:
            while group := self._waiting.pop(sale_id, None):
                try:
                    results = await self._run(
                        sale_id, [key for key, _, _ in group], [arg for _, args, _ in group for arg in args]
                    )
                    answered = list(zip(group, results, strict=True))
                except Exception as error:  # each member answers it as if it had called alone
                    for _, _, waiter in group:
                        if not waiter.done():
                            waiter.set_exception(error)
                    continue
                for (_, _, waiter), result in answered:
                    if not waiter.done():
                        waiter.set_result(result)
        finally:
            del self._leaders[sale_id]
            for _, _, waiter in self._waiting.pop(sale_id, ()):  # only when cancelled mid-call
                waiter.cancel()
