"""The admitter: the one process that moves every waiting room forward
(`manage.py run_admissions`, the supervisord program `admitter`).

Every tick (WAITING_ROOM_TICK_SECONDS) it

    1. holds the lease (waitingroom/leader.py): takes it if free, renews it if
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
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import redis
from django.db import DatabaseError, connection
from django.utils import timezone

from infra.errors import ServiceUnavailable
from sales import keys
from sales.selectors import sale_ids_open_or_ended_since
from sales.services import sale_record_draw
from waitingroom.broadcast import publish
from waitingroom.leader import LeaseHolder, default_holder
from waitingroom.queue import LONGEST_TICK_MS, Draw, QueueFigures, queue_admit, queue_draw_recorded

__all__ = ["Admitter", "default_holder", "sales_to_tick"]

logger = logging.getLogger(__name__)

# How long an ended sale keeps being broadcast, for pages that were away at the time.
ENDED_BROADCAST = timedelta(minutes=1)


def sales_to_tick(*, now: datetime | None = None) -> list[int]:
    """The sales whose queues the admitter ticks: every open one (scheduled ones
    take joiners ahead of their start), and those that ended a moment ago."""
    return sale_ids_open_or_ended_since(since=(now or timezone.now()) - ENDED_BROADCAST)


class Admitter(LeaseHolder):
    lease_key = keys.ADMITTER_LEASE_KEY
    work = "admitting and broadcasting"

    def __init__(
        self,
        *,
        holder: str,
        tick_seconds: float,
        lease_seconds: float,
        update_seconds: float | None = None,
        report: Callable[[str], None] = logger.info,
    ) -> None:
        super().__init__(holder=holder, tick_seconds=tick_seconds, lease_seconds=lease_seconds, report=report)
        # A tick admits for the time since the last one, up to this (after a hand-over).
        self.longest_ms = max(LONGEST_TICK_MS, int(2000 * tick_seconds))
        # Pages get a sale's figures every update_seconds (a change of status at once):
        # at 10,000 sockets a process, each message sent is 10,000 writes.
        self.update_seconds = tick_seconds if update_seconds is None else update_seconds
        self._published: dict[int, tuple[str, float]] = {}  # sale -> (status, when) last sent
        self.sale_ids: list[int] = []

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
                if figures.draw is not None:
                    self._record_draw(sale_id, figures.draw)
                if self._due(figures):
                    publish(sale_id, figures)
                    self._published[sale_id] = (figures.status, time.monotonic())
            except (ServiceUnavailable, redis.RedisError, OSError) as error:
                logger.warning("admitter: sale %s not ticked: %s", sale_id, error)
        return admitted

    def _record_draw(self, sale_id: int, draw: Draw) -> None:
        """The pre-queue was shuffled (admit.lua 4b): into PostgreSQL, so that the
        merchant sees it happened after Redis forgets the sale. Until PostgreSQL has
        it, every tick hands it over again."""
        record = {
            **draw.as_record(),
            "drawn_at": datetime.fromtimestamp(draw.drawn_ms / 1000, UTC).isoformat(),
        }
        try:
            if sale_record_draw(sale_id=sale_id, record=record):
                queue_draw_recorded(sale_id=sale_id)
                logger.info(
                    "admitter: sale %s: pre-queue of %s shuffled, seed %s", sale_id, draw.entrants, draw.seed
                )
        except DatabaseError as error:
            logger.warning("admitter: sale %s: draw not recorded yet: %s", sale_id, error)
            connection.close()

    def _due(self, figures: QueueFigures) -> bool:
        """Whether the pages should get this tick: a new status (sold out, paused,
        ended...) at once, otherwise once every update_seconds (within half a tick,
        so that a 1 s update on a 0.5 s tick is every other tick, not every third)."""
        last = self._published.get(figures.sale_id)
        if last is None or last[0] != figures.status:
            return True
        return time.monotonic() - last[1] >= self.update_seconds - self.tick_seconds / 2
