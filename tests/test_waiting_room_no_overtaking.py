"""Nobody overtakes the queue: while anyone waits in a sale's waiting room, a
buy without an admission is sent there (302 `rate_limited`) even though the
token bucket has tokens to spare. Once the queue is empty the bucket serves
again."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from orders.buy import decision
from orders.buy.outcomes import Outcome
from tests.factories import make_sale
from tests.support.queue import admit, redis_now_ms
from waitingroom.queue import queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db


def buy(sale_id: int, shopper: str) -> decision.BuyResult:
    return decision.buy(sale_id=sale_id, user_id=shopper, quantity=1, idempotency_key=uuid.uuid4().hex)


def test_newcomers_go_to_the_back_while_anyone_waits(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, rate=1000, burst=1000, admission_rate=1)  # a full bucket
    assert buy(sale.pk, "before-the-crowd").outcome == Outcome.ACCEPTED
    start = redis_now_ms(redis_conn)
    queue_join(sale_id=sale.pk, shopper="alice", now_ms=start)
    queue_present(sale_id=sale.pk, shopper="alice")

    refused = buy(sale.pk, "newcomer")
    assert (refused.outcome, refused.retry_after) == (Outcome.RATE_LIMITED, 1)
    assert buy(sale.pk, "alice").outcome == Outcome.RATE_LIMITED  # waiting is not admitted

    queue_admit(sale_id=sale.pk, now_ms=start)
    assert queue_admit(sale_id=sale.pk, now_ms=start + 1000).admitted == 1  # alice: the queue is empty
    assert buy(sale.pk, "newcomer").outcome == Outcome.ACCEPTED  # the bucket serves again


def test_the_buy_api_sends_them_to_the_waiting_room(owner, redis_conn, demo_mode) -> None:
    sale = make_sale(owner, live=True, rate=1000, burst=1000)
    queue_join(sale_id=sale.pk, shopper="alice")
    response = Client().post(
        f"/api/v1/sales/{sale.pk}/buy",
        json.dumps({"user_id": "newcomer"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert response.status_code == 302
    assert response["Location"] == f"/waiting-room/{sale.pk}/"
    assert response.json()["status"] == "rate_limited"


def test_an_admitted_shopper_buys_past_the_shoppers_behind_it(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, rate=1000, burst=1000)
    token = admit(redis_conn, sale.pk, "alice")
    queue_join(sale_id=sale.pk, shopper="bob")
    result = decision.buy(
        sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="a", admission_token=token
    )
    assert result.outcome == Outcome.ACCEPTED
    assert buy(sale.pk, "carol").outcome == Outcome.RATE_LIMITED  # bob still waits


def test_a_sold_out_sale_answers_sold_out_though_shoppers_still_wait(owner, redis_conn) -> None:
    """The last unit sold while shoppers still wait: the herd is told sold_out (and
    web processes can answer it from memory again), not sent to a queue that will
    never move."""
    sale = make_sale(owner, live=True, quantity=1, rate=1000, burst=1000)
    token = admit(redis_conn, sale.pk, "alice")
    queue_join(sale_id=sale.pk, shopper="bob")
    bought = decision.buy(
        sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="a", admission_token=token
    )
    assert bought.outcome == Outcome.ACCEPTED

    decision.forget_sold_out_flags()  # this process saw nothing: the answer comes from buy.lua
    assert buy(sale.pk, "newcomer").outcome == Outcome.SOLD_OUT
    assert buy(sale.pk, "bob").outcome == Outcome.SOLD_OUT
