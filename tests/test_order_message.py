"""The order message is defined once (orders/message.py): what buy.lua writes
into the ledger and the buy path publishes is exactly that definition, and the
consumer decodes it back to the order the shopper was told about."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from orders.buy import decision
from orders.buy.outcomes import Outcome
from orders.message import FIELDS, order_decode
from sales import keys
from tests.factories import make_sale

pytestmark = pytest.mark.django_db


def test_buy_lua_writes_exactly_the_defined_fields(owner: Any, redis_conn: Any) -> None:
    decision.forget_sold_out_flags()
    sale = make_sale(owner, live=True, quantity=5, per_user_limit=2)
    result = decision.buy(sale_id=sale.pk, user_id="ada", quantity=2, idempotency_key=uuid.uuid4().hex)
    assert result.outcome == Outcome.ACCEPTED
    answer = json.loads(result.body)

    raw = redis_conn.hget(keys.ledger_key(sale.pk), answer["order_id"])  # the published bytes
    assert raw is not None
    assert set(json.loads(raw)) == set(FIELDS)

    order = order_decode(raw)
    assert str(order.order_id) == answer["order_id"]
    assert (order.sale_id, order.user_id, order.quantity) == (sale.pk, "ada", 2)
    assert order.unit_price == sale.unit_price
    assert int(order.accepted_at.timestamp() * 1000) == answer["accepted_at_ms"]
