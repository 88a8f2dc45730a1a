"""manage.py run_dashboard: the live dashboards' ticker (dashboard/ticker.py)."""

from __future__ import annotations

from django.conf import settings

from dashboard.ticker import DashboardTicker
from waitingroom.management.leased import LeasedLoopCommand


class Command(LeasedLoopCommand):
    help = (
        "Compute every live sale's dashboard once a tick, keep its history and send it to the "
        "sale's dashboards. One leads (a lease in Redis); any other stands by. "
        "SIGTERM/SIGINT: finish the tick, hand over."
    )
    name = "dashboard ticker"
    tick_default = settings.DASHBOARD_TICK_SECONDS
    tick_bounds = (0.1, 10)
    lease_ticks = 3

    def make_loop(self, *, holder: str, tick: float, lease: float) -> DashboardTicker:
        return DashboardTicker(
            holder=holder,
            tick_seconds=tick,
            lease_seconds=lease,
            report=lambda line: self.stdout.write(line),
        )
