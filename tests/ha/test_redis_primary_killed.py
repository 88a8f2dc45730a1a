"""kill -9 of the Redis primary mid-sale: the Sentinels promote a replica.

Every buy decision is answered only once a replica holds it (WAIT 1 on the
decision's connection), and the Sentinels promote the most up-to-date replica:
what a shopper was told "accepted" (200 or 202) survives the failover, its key
replays the same order afterwards, and no unit is sold twice (the books settle:
Redis's remaining + units persisted = quantity). Meanwhile the buy API answers 503
(the primary is gone, or the new one has no replica yet: min-replicas-to-write).
Celery (its broker is the same Redis, through the Sentinels) follows too: a sale
scheduled after the failover is started on time by beat and the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sales import services
from sales.models import Sale, SaleStatus
from tests.factories import make_sale
from tests.support.ha import books_hold, kill9, redis_primary_node, report, sale_through_fault
from tests.support.product import Product
from tests.support.servers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_redis_primary_killed_mid_sale(ha_product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=1_000_000, rate=100_000, burst=100_000)
    victim = redis_primary_node()
    crowd, fault_at = sale_through_fault(ha_product, sale.pk, lambda: kill9(victim))
    wait_for(lambda: redis_primary_node() != victim, 30, "the Sentinels to name a new primary")
    figures = books_hold(crowd, sale.pk)
    scheduled = make_sale(owner, starts_at=timezone.now() + timedelta(seconds=2))
    services.sale_schedule(sale_id=scheduled.pk)
    wait_for(
        lambda: Sale.objects.get(pk=scheduled.pk).status == SaleStatus.LIVE,
        30,
        "Celery (beat and worker, on the new primary) to start a scheduled sale",
    )
    report(
        "redis_primary_killed",
        {
            "killed": victim,
            "new_primary": redis_primary_node(),
            **crowd.unavailable_after(fault_at),
            **figures,
        },
    )
