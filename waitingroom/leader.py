"""One leader among processes that would otherwise do the same periodic work twice:
a lease in Redis (waitingroom/lua/lease.lua) and the loop around it. The admitter
(waitingroom/admitter.py) and the live dashboard's ticker (dashboard/ticker.py)
are both one.

Every round the process holds the lease (takes it if free, renews it if its own)
and, only while it leads, runs its tick(). Any other process with the same lease
key stands by and takes over when the lease lapses, or at once when the leader
stops cleanly (it releases the lease).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis

from infra.clients import lua_source, redis_script

logger = logging.getLogger(__name__)

LEASE_LUA = Path(__file__).resolve().parent / "lua" / "lease.lua"


def default_holder() -> str:
    """This process's name on a lease: the host and the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseHolder:
    """Subclasses name their lease (`lease_key`), say what leading means (`work`)
    and do one round's work in tick()."""

    lease_key: str
    work = "working"

    def __init__(
        self,
        *,
        holder: str,
        tick_seconds: float,
        lease_seconds: float,
        report: Callable[[str], None] = logger.info,
    ) -> None:
        self.holder = holder
        self.tick_seconds = tick_seconds
        self.lease_ms = int(lease_seconds * 1000)
        self.report = report
        self.leading = False
        self._reported = ""  # the role last reported (leading, standing by)
        self._stop = threading.Event()

    def tick(self) -> object:
        raise NotImplementedError

    # --- the lease ------------------------------------------------------------------

    def _roles(self) -> dict[str, str]:
        return {
            "leading": f"leading: {self.work}",
            "standby": "standing by: another one leads",
            "no redis": "standing by: Redis does not answer",
        }

    def _lease(self, action: str) -> bool:
        script = redis_script("waitingroom:lease", lua_source(LEASE_LUA))
        return bool(script(keys=[self.lease_key], args=[self.holder, action, self.lease_ms]))

    def hold_lease(self) -> bool:
        """Take or renew the lease; say so when this process starts or stops leading."""
        try:
            leading = self._lease("hold")
            role = "leading" if leading else "standby"
        except redis.RedisError as error:
            leading, role = False, "no redis"
            logger.debug("%s: Redis does not answer: %s", self.lease_key, error)
        if role != self._reported:  # each change of role, said once
            self.report(self._roles()[role])
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

    # --- the loop -----------------------------------------------------------------------

    def step(self) -> bool:
        """One round: hold the lease, and tick if it is ours. Returns whether this
        process led this round."""
        if not self.hold_lease():
            return False
        self.tick()
        return True

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
