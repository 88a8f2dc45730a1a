"""The command around a LeaseHolder loop (waitingroom/leader.py): --tick, --lease and
--holder, their bounds, and SIGTERM/SIGINT that finish the tick and hand the lease
over. run_admissions and run_dashboard are both one."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from waitingroom.leader import LeaseHolder, default_holder


class LeasedLoopCommand(BaseCommand):
    """Subclasses set the tick's default and bounds, the default lease in ticks, the
    loop's name, and build the loop in make_loop()."""

    name: str
    tick_default: float
    tick_bounds: tuple[float, float]
    lease_ticks: int

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tick", type=float, default=self.tick_default, help="seconds between ticks")
        parser.add_argument(
            "--lease",
            type=float,
            default=None,
            help="seconds a leader's lease lasts unless renewed: how long a standby waits "
            f"after a leader dies (default: {self.lease_ticks} ticks, at least 3 s)",
        )
        parser.add_argument("--holder", default=None, help=f"this {self.name}'s name on the lease (host:pid)")

    def make_loop(self, *, holder: str, tick: float, lease: float) -> LeaseHolder:
        raise NotImplementedError

    def handle(
        self, *args: Any, tick: float, lease: float | None, holder: str | None, **options: Any
    ) -> None:
        low, high = self.tick_bounds
        if not low <= tick <= high:
            raise CommandError(f"--tick must be between {low} and {high} seconds")
        lease = lease if lease is not None else max(3.0, self.lease_ticks * tick)
        if lease <= 2 * tick:
            raise CommandError("--lease must be longer than two ticks, or the leader loses it between them")
        loop = self.make_loop(holder=holder or default_holder(), tick=tick, lease=lease)

        def stop(signum: int, frame: Any) -> None:
            self.stdout.write(f"received {signal.Signals(signum).name}: finishing the tick")
            loop.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"{self.name} {loop.holder}: a tick every {tick}s, lease {lease}s")
        loop.run()
        self.stdout.write("stopped cleanly")
