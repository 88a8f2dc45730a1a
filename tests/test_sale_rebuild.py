"""If Redis loses a sale's live state, re-arming rebuilds it from PostgreSQL
(remaining = quantity - units persisted), and only once the order topic is
drained, so nothing sold is sold again."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from confluent_kafka import Producer
from django.conf import settings

from infra.clients import kafka_producer_config
from infra.errors import ApplicationError
from orders.models import Order
from sales import services
from sales.keys import state_key
from sales.live import live_state
from tests.factories import make_sale
from tests.support.orders import commit_orders_topic_to_end

pytestmark = pytest.mark.django_db


def persist_orders(sale, units: list[int]) -> None:
    for number, quantity in enumerate(units):
        Order.objects.create(
            sale=sale,
            user_id=f"u{number}",
            quantity=quantity,
            unit_price=Decimal("1"),
            accepted_at=datetime.now(UTC),
        )


def test_rearm_rebuilds_lost_state_from_persisted_orders(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=2)
    persist_orders(sale, [1, 2])
    redis_conn.delete(state_key(sale.pk))  # Redis lost the sale
    commit_orders_topic_to_end()

    services.sale_rearm(sale_id=sale.pk)

    state = live_state(sale.pk)
    assert (state.status, state.quantity, state.remaining, state.sold) == ("live", 10, 7, 3)


def test_rearm_with_state_present_keeps_stock(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    redis_conn.hset(state_key(sale.pk), mapping={"remaining": 4, "sold": 6})
    services.sale_rearm(sale_id=sale.pk)
    state = live_state(sale.pk)
    assert (state.remaining, state.sold) == (4, 6)


def test_rebuild_waits_for_the_order_topic_to_drain(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    commit_orders_topic_to_end()
    producer = Producer(kafka_producer_config())
    producer.produce(settings.KAFKA_ORDERS_TOPIC, key=b"in-flight", value=b"{}")
    assert producer.flush(10) == 0
    redis_conn.delete(state_key(sale.pk))

    with pytest.raises(ApplicationError) as refused:
        services.sale_rearm(sale_id=sale.pk)
    assert refused.value.code == "not_drained"
    assert live_state(sale.pk) is None  # nothing half-written

    commit_orders_topic_to_end()  # the consumer caught up
    services.sale_rearm(sale_id=sale.pk)
    assert live_state(sale.pk).remaining == 10


def test_sweep_rearms_a_sale_whose_state_vanished(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    persist_orders(sale, [1])
    redis_conn.delete(state_key(sale.pk))
    commit_orders_topic_to_end()

    assert services.sales_sweep()["rearmed"] == [sale.pk]
    assert live_state(sale.pk).remaining == 4


def test_a_sale_that_never_went_live_starts_full_without_asking_kafka(owner) -> None:
    sale = make_sale(owner, quantity=3)
    assert services.sale_go_live(sale_id=sale.pk) is not None
    assert live_state(sale.pk).remaining == 3
