"""Scheduled sales start and end on time through a real Celery worker and beat,
a start missed while the scheduler was down happens when it comes back, and an
ended sale never reopens."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from sales import services
from sales.live import live_state
from sales.models import Sale, SaleStatus
from tests.factories import make_sale
from tests.support.servers import start_process, stop_process, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CELERY = str(Path(sys.executable).parent / "celery")


def status_of(sale: Sale) -> str:
    sale.refresh_from_db()
    return sale.status


def test_scheduler_starts_and_ends_sales_on_time(owner, tmp_path) -> None:
    now = timezone.now()
    # Both were due while no scheduler ran:
    missed_start = make_sale(owner, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1))
    missed_window = make_sale(owner, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(seconds=1))
    for sale in (missed_start, missed_window):
        services.sale_schedule(sale_id=sale.pk)
    time.sleep(1.5)  # missed_window's end passes too
    on_time = make_sale(
        owner, starts_at=timezone.now() + timedelta(seconds=4), ends_at=timezone.now() + timedelta(seconds=8)
    )
    services.sale_schedule(sale_id=on_time.pk)
    assert status_of(on_time) == SaleStatus.SCHEDULED

    worker = start_process(
        [CELERY, "-A", "flux_admin", "worker", "--beat", "--concurrency", "1", "--loglevel", "INFO",
         "--schedule", str(tmp_path / "beat-schedule"), "--without-mingle", "--without-gossip"],
        "celery",
    )  # fmt: skip
    try:
        wait_for(lambda: status_of(missed_start) == SaleStatus.LIVE, 30, "the missed start to go live")
        wait_for(lambda: status_of(missed_window) == SaleStatus.ENDED, 10, "the missed window to end")
        missed_window.refresh_from_db()
        assert missed_window.went_live_at is None  # ended without ever reopening
        assert live_state(missed_window.pk).status == "ended"

        wait_for(lambda: status_of(on_time) == SaleStatus.LIVE, 15, "the scheduled sale to go live")
        on_time.refresh_from_db()
        late_by = (on_time.went_live_at - on_time.starts_at).total_seconds()
        assert 0 <= late_by < 3, f"went live {late_by:.1f}s after its start"
        assert live_state(on_time.pk).status == "live"

        wait_for(lambda: status_of(on_time) == SaleStatus.ENDED, 15, "the scheduled sale to end")
        assert live_state(on_time.pk).status == "ended"
        time.sleep(2)  # a few more sweeps: nothing reopens
        assert status_of(on_time) == SaleStatus.ENDED
        assert status_of(missed_window) == SaleStatus.ENDED
        assert status_of(missed_start) == SaleStatus.LIVE
    finally:
        stop_process(worker)
