"""kill -9 of one of the order consumers mid-sale (two in the group).

The batch it had read but not committed is read again (by its replacement, which
supervisord starts under the same static instance id, or by the other consumer)
and written with ON CONFLICT DO NOTHING: every accepted order is persisted once.
The buy API does not notice (no 503 expected; reported all the same)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_sale
from tests.support.ha import books_hold, report, sale_through_fault
from tests.support.product import Product
from tests.support.servers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_consumer_killed_mid_sale(ha_product: Product, owner: Any) -> None:
    import os
    import signal

    sale = make_sale(owner, live=True, quantity=1_000_000, rate=100_000, burst=100_000)
    name = "consumer:consumer-0"
    old_pid = ha_product.status()[name][1]
    assert old_pid, ha_product.status()
    crowd, fault_at = sale_through_fault(
        ha_product, sale.pk, lambda: os.kill(old_pid, signal.SIGKILL), after=8
    )
    wait_for(
        lambda: ha_product.status()[name][0] == "RUNNING" and ha_product.status()[name][1] != old_pid,
        30,
        "supervisord to start the killed consumer again",
    )
    figures = books_hold(crowd, sale.pk)
    report("consumer_killed", {"killed": name, **crowd.unavailable_after(fault_at), **figures})
