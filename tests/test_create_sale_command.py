"""manage.py create_sale: every field as an option, the new id alone on the last line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from sales.live import live_state
from sales.models import Sale, SaleStatus
from tests.support.servers import ROOT


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("create_sale", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_live_sale_with_every_option(owner) -> None:
    output = run(
        "--sku", "iphone-15", "--quantity", "100", "--price", "449.50", "--currency", "USD",
        "--per-user-limit", "2", "--rate", "300", "--burst", "400", "--admission-rate", "25",
        "--ends-at", "2099-01-01T00:00:00+00:00", "--merchant", "owner", "--live", "--product-name", "iPhone",
    )  # fmt: skip
    sale_id = int(output.strip().splitlines()[-1])
    sale = Sale.objects.get(pk=sale_id)
    assert (sale.status, sale.quantity, str(sale.unit_price), sale.currency) == (
        SaleStatus.LIVE,
        100,
        "449.50",
        "USD",
    )
    assert (sale.per_user_limit, sale.rate, sale.burst, sale.admission_rate) == (2, 300, 400, 25)
    assert live_state(sale_id).remaining == 100


@pytest.mark.django_db
def test_scheduled_sale(owner) -> None:
    sale_id = int(
        run(
            "--sku", "tv", "--quantity", "5", "--merchant", "owner", "--schedule",
            "--starts-at", "2098-01-01T10:00:00", "--ends-at", "2098-01-01T11:00:00",
        ).splitlines()[-1]
    )  # fmt: skip
    assert Sale.objects.get(pk=sale_id).status == SaleStatus.SCHEDULED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--sku", "bad sku", "--quantity", "5"], "sku"),
        (["--sku", "ok", "--quantity", "0"], "quantity"),
        (["--sku", "ok", "--quantity", "5", "--merchant", "nobody"], "no user named 'nobody'"),
        (["--sku", "ok", "--quantity", "5", "--schedule"], "needs a start time"),
    ],
)
def test_bad_options_fail_with_a_message(owner, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args, *([] if "--merchant" in args else ["--merchant", "owner"]))
    assert not Sale.objects.filter(status__in=["live", "scheduled"]).exists()


def test_unparseable_option_exits_nonzero_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "create_sale", "--sku", "x", "--quantity", "lots"],
        cwd=ROOT, capture_output=True, text=True, env={"DJANGO_SETTINGS_MODULE": "flux_admin.settings", "DATABASE_URL": settings.DATABASE_URL, "PATH": "/usr/bin"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "argument --quantity: invalid int value: 'lots'" in result.stderr
    assert "Traceback" not in result.stderr
