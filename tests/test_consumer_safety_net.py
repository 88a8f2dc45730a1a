"""The safety net: a stream that oversells (fed by hand; a correct pipeline never
makes one) is not written silently. The excess becomes anomalies and dead
letters, first come first served decides who keeps a unit, and the sale is flagged."""

from __future__ import annotations

import pytest
from django.conf import settings

from infra.kafka import end_offsets
from orders.message import order_decode
from orders.models import Order, OrderAnomaly
from orders.services import order_persist_batch
from sales.models import Sale
from tests.factories import make_sale
from tests.support.consumer import consume_dead_letters, drain, fresh_group, produce_raw
from tests.support.orders import message

pytestmark = pytest.mark.django_db


def test_orders_past_the_quantity_become_anomalies(owner) -> None:
    sale = make_sale(owner, live=True, quantity=3)
    orders = [order_decode(message(sale.pk, at_ms=1_800_000_000_000 + n)) for n in range(5)]
    order_persist_batch(orders=orders[:2])

    result = order_persist_batch(orders=list(reversed(orders[2:])))  # arrival order must not matter

    assert [o.order_id for o in result.inserted] == [orders[2].order_id]
    assert sorted(o.order_id for o in result.excess) == sorted(o.order_id for o in orders[3:])
    sale.refresh_from_db()
    assert (sale.persisted_units, sale.oversold_flag) == (3, True)
    assert Order.objects.filter(sale=sale).count() == 3
    assert set(OrderAnomaly.objects.values_list("order_id", flat=True)) == {o.order_id for o in orders[3:]}
    assert "past its quantity of 3" in OrderAnomaly.objects.first().reason


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_consumer_sends_the_excess_to_the_dead_letter_topic(owner) -> None:
    sale = make_sale(owner, live=True, quantity=2)
    raws = [message(sale.pk, at_ms=1_800_000_000_000 + n) for n in range(4)]

    group = fresh_group()
    dlq_start = end_offsets(settings.KAFKA_ORDERS_DLQ_TOPIC)
    # One partition: the consumer keeps orders first come first served in the order it
    # reads them, and Kafka orders messages only within a partition. Spread over
    # partitions, which two are "first" depends on how the fetches split them.
    produce_raw(raws, partition=0)

    drain(group, until=lambda: OrderAnomaly.objects.filter(sale=sale).count() == 2)

    assert Order.objects.filter(sale=sale).count() == 2
    dead = consume_dead_letters(dlq_start, 2)

    assert sorted(d.value() for d in dead) == sorted(raws[2:])
    assert all(dict(d.headers())["error"].startswith(b"oversold") for d in dead)
    assert Sale.objects.get(pk=sale.pk).oversold_flag
