"""manage.py reconcile: the books of a sale across Redis, the ledger and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orders.buy import decision
from orders.models import Order
from orders.reconcile import final_reports_store, sale_reconcile
from sales import services
from sales.models import Sale
from tests.factories import make_sale
from tests.support.consumer import drain, fresh_group
from tests.support.servers import ROOT, database_url_for_tests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def reconcile_command(sale_id: int, wait: str = "0") -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "DATABASE_URL": database_url_for_tests()}
    return subprocess.run(
        [sys.executable, "manage.py", "reconcile", str(sale_id), "--wait", wait],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_books_settle_once_the_consumer_has_persisted_everything(owner) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    group = fresh_group()
    for n in range(3):
        decision.buy(sale_id=sale.pk, user_id=f"r{n}", quantity=1, idempotency_key=f"r{n}")

    in_flight = sale_reconcile(sale_id=sale.pk)
    assert (in_flight.sold, in_flight.units_persisted, in_flight.drift, in_flight.settled) == (3, 0, 3, False)
    unsettled = reconcile_command(sale.pk)
    assert unsettled.returncode == 1
    assert "did not settle" in unsettled.stderr

    drain(group, until=lambda: Order.objects.filter(sale=sale).count() == 3)
    report = sale_reconcile(sale_id=sale.pk)
    assert (report.drift, report.remaining, report.units_persisted, report.settled) == (0, 2, 3, True)
    assert report.reservations_in_ledger == 0
    settled = reconcile_command(sale.pk)
    assert settled.returncode == 0, settled.stderr
    assert "settled                  True" in settled.stdout

    services.sale_end(sale_id=sale.pk)
    assert final_reports_store() == [sale.pk]
    assert Sale.objects.get(pk=sale.pk).final_report["units_persisted"] == 3


def test_unknown_sale_is_an_error() -> None:
    result = reconcile_command(424242)
    assert result.returncode != 0
    assert "no sale 424242" in result.stderr
