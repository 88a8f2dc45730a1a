"""order_persist_batch: one transaction per batch, a redelivered order is a
no-op, and each sale's persisted count moves with its version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orders.message import PoisonMessage, order_decode
from orders.models import Order
from orders.services import order_persist_batch
from sales.models import Sale
from tests.factories import make_sale
from tests.support.orders import message

pytestmark = pytest.mark.django_db


def test_a_batch_persists_and_a_redelivery_is_a_no_op(owner) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    orders = [order_decode(message(sale.pk), partition=0, offset=n) for n in range(4)]

    first = order_persist_batch(orders=orders)
    again = order_persist_batch(orders=orders)

    assert (len(first.inserted), len(first.duplicates)) == (4, 0)
    assert (len(again.inserted), len(again.duplicates)) == (0, 4)
    assert Order.objects.filter(sale=sale).count() == 4
    sale.refresh_from_db()
    assert (sale.persisted_units, sale.version) == (4, 1)  # the no-op batch moved nothing
    row = Order.objects.get(order_id=orders[2].order_id)
    assert (row.kafka_partition, row.kafka_offset, str(row.unit_price)) == (0, 2, "449.00")
    assert row.accepted_at == datetime.fromtimestamp(1_800_000_000, tz=UTC)


def test_the_same_order_twice_in_one_batch_is_written_once(owner) -> None:
    sale = make_sale(owner, live=True)
    raw = message(sale.pk, quantity=2)
    result = order_persist_batch(orders=[order_decode(raw, offset=1), order_decode(raw, offset=7)])
    assert (len(result.inserted), len(result.duplicates)) == (1, 1)
    assert Sale.objects.get(pk=sale.pk).persisted_units == 2


def test_unknown_sale_is_reported_not_written(owner) -> None:
    result = order_persist_batch(orders=[order_decode(message(424242))])
    assert len(result.unknown_sale) == 1
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"\xff\xfe not json", "undecodable"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"order_id": "x"}', "missing fields"),
        (
            b'{"order_id": "not-a-uuid", "sale_id": 1, "user_id": "u", "quantity": 1, "unit_price": "1", "accepted_at_ms": 1}',
            "invalid field",
        ),
        (
            b'{"order_id": "6c1e7f5e-2d1a-4a35-9a53-6a8f3c0e4c11", "sale_id": 1, "user_id": "u", "quantity": 0, "unit_price": "1", "accepted_at_ms": 1}',
            "quantity < 1",
        ),
    ],
)
def test_poison_messages_are_named(raw: bytes, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        order_decode(raw)
