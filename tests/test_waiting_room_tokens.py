"""Admission tokens: a valid one buys once, past an empty token bucket and past
the shoppers still waiting; a forged, tampered, expired, spent, another
shopper's or another sale's token is refused: 403 `admission_invalid`."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from orders.buy import decision
from orders.buy.admission import ADMISSION_SALT, admission_read
from orders.buy.outcomes import Outcome
from tests.factories import make_sale
from tests.support.queue import admit, redis_now_ms
from waitingroom.queue import queue_join

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_process_memory() -> None:
    decision.forget_sold_out_flags()


def buy(sale_id: int, shopper: str, token: str | None, key: str | None = None) -> decision.BuyResult:
    return decision.buy(
        sale_id=sale_id,
        user_id=shopper,
        quantity=1,
        idempotency_key=key or uuid.uuid4().hex,
        admission_token=token,
    )


def empty_bucket_sale(owner):
    """A live sale whose token bucket is spent: only admissions buy now. It started
    five minutes ago (a test admits a shopper two minutes back)."""
    sale = make_sale(
        owner, live=True, quantity=50, rate=1, burst=1, starts_at=timezone.now() - timedelta(minutes=5)
    )
    # Until one is refused: the first order's wait for Kafka can outlast a refill.
    outcomes = [buy(sale.pk, f"early-bird-{n}", None).outcome for n in range(5)]
    assert Outcome.RATE_LIMITED in outcomes
    return sale


def test_a_valid_token_buys_while_the_bucket_is_empty_and_others_wait(owner, redis_conn) -> None:
    sale = empty_bucket_sale(owner)
    token = admit(redis_conn, sale.pk, "alice")
    queue_join(sale_id=sale.pk, shopper="bob")  # still waiting behind her

    result = buy(sale.pk, "alice", token)
    assert result.outcome == Outcome.ACCEPTED
    assert json.loads(result.body)["user_id"] == "alice"


def test_a_token_is_spent_by_its_first_buy(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, per_user_limit=5)
    token = admit(redis_conn, sale.pk, "alice")
    first = buy(sale.pk, "alice", token, key="alice-1")
    assert first.outcome == Outcome.ACCEPTED

    assert buy(sale.pk, "alice", token).outcome == Outcome.ADMISSION_INVALID  # a second purchase
    replay = buy(sale.pk, "alice", token, key="alice-1")  # the first one retried: its answer again
    assert (replay.outcome, replay.body) == (Outcome.ACCEPTED, first.body)


def test_an_expired_token_is_refused(owner, redis_conn, settings) -> None:
    settings.ADMISSION_TOKEN_SECONDS = 60
    sale = empty_bucket_sale(owner)
    token = admit(redis_conn, sale.pk, "alice", now_ms=redis_now_ms(redis_conn) - 120_000)
    assert admission_read(token=token).expires_ms < redis_now_ms(redis_conn)
    assert buy(sale.pk, "alice", token).outcome == Outcome.ADMISSION_INVALID


def test_another_shoppers_token_is_refused(owner, redis_conn) -> None:
    sale = empty_bucket_sale(owner)
    token = admit(redis_conn, sale.pk, "alice")
    assert buy(sale.pk, "mallory", token).outcome == Outcome.ADMISSION_INVALID
    assert buy(sale.pk, "alice", token).outcome == Outcome.ACCEPTED  # still hers, unspent


def test_another_sales_token_is_refused(owner, redis_conn) -> None:
    sale = empty_bucket_sale(owner)
    other_sale = make_sale(owner, live=True)
    token = admit(redis_conn, other_sale.pk, "alice")
    admit(redis_conn, sale.pk, "alice")  # admitted here too, under another nonce
    assert buy(sale.pk, "alice", token).outcome == Outcome.ADMISSION_INVALID


def test_forged_and_tampered_tokens_are_refused(owner, redis_conn) -> None:
    sale = empty_bucket_sale(owner)
    genuine = admit(redis_conn, sale.pk, "alice")
    admission = admission_read(token=genuine)
    fields = {
        "s": sale.pk,
        "p": "mallory",
        "t": admission.ticket,
        "n": admission.nonce,
        "e": admission.expires_ms,
    }
    forged = signing.Signer(key="not-the-server-secret", salt=ADMISSION_SALT).sign_object(fields)
    # The genuine token's payload made to name another shopper, its signature kept.
    payload, signature = genuine.rsplit(":", 1)
    tampered = (
        signing.b64_encode(json.dumps(fields, separators=(",", ":")).encode()).decode() + ":" + signature
    )
    assert payload != tampered.rsplit(":", 1)[0]

    for token in (forged, tampered, "not-a-token", ""):
        assert buy(sale.pk, "mallory", token).outcome == Outcome.ADMISSION_INVALID, token
    assert buy(sale.pk, "alice", genuine).outcome == Outcome.ACCEPTED


def test_the_buy_api_answers_403_and_takes_the_admission_token_header(owner, redis_conn, demo_mode) -> None:
    sale = empty_bucket_sale(owner)
    token = admit(redis_conn, sale.pk, "alice")

    def post(shopper: str, token: str) -> tuple[int, dict]:
        response = Client().post(
            f"/api/v1/sales/{sale.pk}/buy",
            json.dumps({"user_id": shopper}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            HTTP_ADMISSION_TOKEN=token,
        )
        return response.status_code, response.json()

    status, body = post("mallory", token)
    assert (status, body["status"]) == (403, "admission_invalid")
    assert "waiting room" in body["detail"]
    status, body = post("alice", token)
    assert (status, body["status"], body["user_id"]) == (200, "accepted", "alice")
    assert post("alice", token)[0] == 403
