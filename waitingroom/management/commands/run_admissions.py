"""manage.py run_admissions: the waiting rooms' admitter (waitingroom/admitter.py)."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from waitingroom.admitter import Admitter, default_holder


class Command(BaseCommand):
    help = (
        "Admit waiting shoppers at each sale's admission rate and broadcast every queue's figures. "
        "One leads (a lease in Redis); any other stands by. SIGTERM/SIGINT: finish the tick, hand over."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--tick",
            type=float,
            default=settings.WAITING_ROOM_TICK_SECONDS,
            help="seconds between ticks (WAITING_ROOM_TICK_SECONDS)",
        )
        parser.add_argument(
            "--lease",
            type=float,
            default=None,
            help="seconds a leader's lease lasts unless renewed: how long a standby waits "
            "after a leader dies (default: 6 ticks, at least 3 s)",
        )
        parser.add_argument("--holder", default=None, help="this admitter's name on the lease (host:pid)")

    def handle(
        self, *args: Any, tick: float, lease: float | None, holder: str | None, **options: Any
    ) -> None:
        if not 0.05 <= tick <= 5:
            raise CommandError("--tick must be between 0.05 and 5 seconds")
        lease = lease if lease is not None else max(3.0, 6 * tick)
        if lease <= 2 * tick:
            raise CommandError("--lease must be longer than two ticks, or the leader loses it between them")
        admitter = Admitter(
            holder=holder or default_holder(),
            tick_seconds=tick,
            lease_seconds=lease,
            update_seconds=settings.WAITING_ROOM_UPDATE_SECONDS,
            report=lambda line: self.stdout.write(line),
        )

        def stop(signum: int, frame: Any) -> None:
            self.stdout.write(f"received {signal.Signals(signum).name}: finishing the tick")
            admitter.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"admitter {admitter.holder}: a tick every {tick}s, lease {lease}s")
        admitter.run()
        self.stdout.write("stopped cleanly")
