"""The admitter: the one process that moves every waiting room forward
(`manage.py run_admissions`, the supervisord program `admitter`).

Every tick (WAITING_ROOM_TICK_SECONDS) it

    1. holds the lease (waitingroom/lua/lease.lua): takes it if free, renews it if
       its own; without it, it stands by and tries again next tick;
    2. reads which sales to tick from PostgreSQL: the open ones, and those that
       ended in the last minute (their pages must learn it); if PostgreSQL does
       not answer, the last list it read;
    3. ticks each sale's queue (waitingroom/queue.py, queue_admit: admits at the
       sale's admission rate, skips the long gone) and publishes its figures to the
       sale's watchers (waitingroom/broadcast.py, one message per sale) once every
       WAITING_ROOM_UPDATE_SECONDS, and at once when the sale's status changes.

The lease keeps a second admitter from doing the same work and sending each
message twice; it is not what keeps admissions right. admit.lua measures the
allowance from the last tick's time, kept in Redis, so even two admitters
ticking at once (a leader paused past its lease while the standby took over)
admit rate x time between them, never twice that.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import redis
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from infra.clients import lua_source, redis_script
from infra.errors import ServiceUnavailable
from sales import keys
from sales.models import OPEN_STATUSES, Sale
from waitingroom.broadcast import publish
from waitingroom.queue import LONGEST_TICK_MS, QueueFigures, queue_admit

logger = logging.getLogger(__name__)

LEASE_LUA = Path(__file__).resolve().parent / "lua" / "lease.lua"
ROLES = {
    "leading": "leading: admitting and broadcasting",
    "standby": "standing by: another admitter leads",
    "no redis": "standing by: Redis does not answer",
}
# How long an ended sale keeps being broadcast, for pages that were away at the time.
ENDED_BROADCAST = timedelta(minutes=1)


def default_holder() -> str:
    """This admitter's name on the lease: the host and the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def sales_to_tick(*, now: datetime | None = None) -> list[int]:
    """The sales whose queues the admitter ticks: every open one (scheduled ones
    take joiners ahead of their start), and those that ended a moment ago."""
    recently = (now or timezone.now()) - ENDED_BROADCAST
    return list(
        Sale.objects.filter(Q(status__in=OPEN_STATUSES) | Q(ended_at__gte=recently))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


class Admitter:
    def __init__(
        self,
        *,
        holder: str,
        tick_seconds: float,
        lease_seconds: float,
        update_seconds: float | None = None,
        report: Callable[[str], None] = logger.info,
    ) -> None:
        self.holder = holder
        self.tick_seconds = tick_seconds
        self.lease_ms = int(lease_seconds * 1000)
        # A tick admits for the time since the last one, up to this (after a hand-over).
        self.longest_ms = max(LONGEST_TICK_MS, int(2000 * tick_seconds))
        # Pages get a sale's figures every update_seconds (a change of status at once):
        # at 10,000 sockets a process, each message sent is 10,000 writes.
        self.update_seconds = tick_seconds if update_seconds is None else update_seconds
        self._published: dict[int, tuple[str, float]] = {}  # sale -> (status, when) last sent
        self.report = report
        self.leading = False
        self._reported = ""  # the role last reported (leading, standing by)
        self.sale_ids: list[int] = []
        self._stop = threading.Event()

    # --- the lease ------------------------------------------------------------------

    def _lease(self, action: str) -> bool:
        script = redis_script("waitingroom:lease", lua_source(LEASE_LUA))
        return bool(script(keys=[keys.ADMITTER_LEASE_KEY], args=[self.holder, action, self.lease_ms]))

    def hold_lease(self) -> bool:
        """Take or renew the lease; say so when this admitter starts or stops leading."""
        try:
            leading = self._lease("hold")
            role = "leading" if leading else "standby"
        except redis.RedisError as error:
            leading, role = False, "no redis"
            logger.debug("admitter: Redis does not answer: %s", error)
        if role != self._reported:  # each change of role, said once
            self.report(ROLES[role])
            self._reported = role
        self.leading = leading
        return leading

    def release_lease(self) -> None:
        try:
            if self._lease("release"):
                self.report("lease released")
        except redis.RedisError:
            pass  # it expires by itself
        self.leading = False
        self._reported = ""

    # --- one tick ---------------------------------------------------------------------

    def _refresh_sale_ids(self) -> None:
        try:
            self.sale_ids = sales_to_tick()
        except DatabaseError as error:
            # Keep ticking the sales it knew: the queues live in Redis, not in PostgreSQL.
            logger.warning("admitter: PostgreSQL does not answer, ticking the last known sales: %s", error)
            connection.close()  # reconnect next tick

    def tick(self, *, now_ms: int | None = None) -> int:
        """Tick every sale's queue and publish its figures. Returns how many
        shoppers were admitted."""
        self._refresh_sale_ids()
        admitted = 0
        for sale_id in self.sale_ids:
            try:
                figures = queue_admit(sale_id=sale_id, now_ms=now_ms, longest_ms=self.longest_ms)
                if figures is None:
                    continue  # no live state (a draft, or Redis lost it: the sweep re-arms it)
                admitted += figures.admitted
                if self._due(figures):
                    publish(sale_id, figures)
                    self._published[sale_id] = (figures.status, time.monotonic())
            except (ServiceUnavailable, redis.RedisError, OSError) as error:
                logger.warning("admitter: sale %s not ticked: %s", sale_id, error)
        return admitted

    def _due(self, figures: QueueFigures) -> bool:
        """Whether the pages should get this tick: a new status (sold out, paused,
        ended...) at once, otherwise once every update_seconds (within half a tick,
        so that a 1 s update on a 0.5 s tick is every other tick, not every third)."""
        last = self._published.get(figures.sale_id)
        if last is None or last[0] != figures.status:
            return True
        return time.monotonic() - last[1] >= self.update_seconds - self.tick_seconds / 2

    def step(self) -> bool:
        """One round: hold the lease, and tick if it is ours. Returns whether this
        admitter led this round."""
        if not self.hold_lease():
            return False
        self.tick()
        return True

    # --- the loop -----------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the current round, then leave (safe from a signal handler)."""
        self._stop.set()

    def run(self) -> None:
        """Step every tick_seconds until stopped, then hand the lease over."""
        next_round = time.monotonic()
        try:
            while not self._stop.is_set():
                self.step()
                next_round += self.tick_seconds
                # A late round (a slow Redis) starts the schedule again rather than catching up.
                next_round = max(next_round, time.monotonic())
                self._stop.wait(next_round - time.monotonic())
        finally:
            self.release_lease()
