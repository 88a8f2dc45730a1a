"""manage.py run_admissions: the waiting rooms' admitter (waitingroom/admitter.py)."""

from __future__ import annotations

from django.conf import settings

from waitingroom.admitter import Admitter
from waitingroom.management.leased import LeasedLoopCommand


class Command(LeasedLoopCommand):
    help = (
        "Admit waiting shoppers at each sale's admission rate and broadcast every queue's figures. "
        "One leads (a lease in Redis); any other stands by. SIGTERM/SIGINT: finish the tick, hand over."
    )
    name = "admitter"
    tick_default = settings.WAITING_ROOM_TICK_SECONDS
    tick_bounds = (0.05, 5)
    lease_ticks = 6

    def make_loop(self, *, holder: str, tick: float, lease: float) -> Admitter:
        return Admitter(
            holder=holder,
            tick_seconds=tick,
            lease_seconds=lease,
            update_seconds=settings.WAITING_ROOM_UPDATE_SECONDS,
            report=lambda line: self.stdout.write(line),
        )
