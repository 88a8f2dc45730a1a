"""kill -9 of the Kafka broker that leads the most orders partitions, mid-sale.

The topic has three replicas and min.insync.replicas 2, the producer acks=all: an
order the broker acknowledged is on two brokers, and the new leader is one of the
in-sync replicas (unclean election off). The buy API refuses (503) while the
producer knows no leader, answers 202 for an acknowledgement that came late
(re-published from the ledger), and every accepted order is persisted once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_sale
from tests.support.ha import books_hold, kafka_orders_leaders, kill9, report, sale_through_fault
from tests.support.product import Product

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_orders_leader_broker_killed_mid_sale(ha_product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=1_000_000, rate=100_000, burst=100_000)
    victim = kafka_orders_leaders().most_common(1)[0][0]
    crowd, fault_at = sale_through_fault(ha_product, sale.pk, lambda: kill9(victim))
    assert kafka_orders_leaders()[victim] == 0, "the killed broker still leads partitions"
    figures = books_hold(crowd, sale.pk)
    report("kafka_leader_killed", {"killed": victim, **crowd.unavailable_after(fault_at), **figures})
