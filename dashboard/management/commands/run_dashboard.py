"""manage.py run_dashboard: the live dashboards' ticker (dashboard/ticker.py)."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.ticker import DashboardTicker
from waitingroom.leader import default_holder


class Command(BaseCommand):
    help = (
        "Compute every live sale's dashboard once a tick, keep its history and send it to the "
        "sale's dashboards. One leads (a lease in Redis); any other stands by. "
        "SIGTERM/SIGINT: finish the tick, hand over."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--tick",
            type=float,
            default=settings.DASHBOARD_TICK_SECONDS,
            help="seconds between ticks (DASHBOARD_TICK_SECONDS)",
        )
        parser.add_argument(
            "--lease",
            type=float,
            default=None,
            help="seconds a leader's lease lasts (default: 3 ticks, ≥ 3 s)",
        )
        parser.add_argument("--holder", default=None, help="this ticker's name on the lease (host:pid)")

    def handle(
        self, *args: Any, tick: float, lease: float | None, holder: str | None, **options: Any
    ) -> None:
        if not 0.1 <= tick <= 10:
            raise CommandError("--tick must be between 0.1 and 10 seconds")
        lease = lease if lease is not None else max(3.0, 3 * tick)
        if lease <= 2 * tick:
            raise CommandError("--lease must be longer than two ticks, or the leader loses it between them")
        ticker = DashboardTicker(
            holder=holder or default_holder(),
            tick_seconds=tick,
            lease_seconds=lease,
            report=lambda line: self.stdout.write(line),
        )

        def stop(signum: int, frame: Any) -> None:
            self.stdout.write(f"received {signal.Signals(signum).name}: finishing the tick")
            ticker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"dashboard ticker {ticker.holder}: a tick every {tick}s, lease {lease}s")
        ticker.run()
        self.stdout.write("stopped cleanly")
