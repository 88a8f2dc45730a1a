"""The same Idempotency-Key always gets the same outcome: concurrent duplicates
make one order, a retry replays the original answer, a different request under a
used key is refused."""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.buy import decision
from orders.buy.outcomes import Outcome
from sales import services
from sales.keys import ledger_key
from sales.live import live_state
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.orders import orders_on_topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_process_memory() -> None:
    decision.forget_sold_out_flags()


@pytest.mark.slow
def test_concurrent_duplicates_make_one_order_with_identical_answers(
    owner, demo_web_server: WebServer, redis_conn
) -> None:
    sale = make_sale(owner, live=True, quantity=1000, rate=1_000_000, burst=1_000_000)
    keys = [f"retry-{n}" for n in range(100)]
    barrier = threading.Barrier(200)

    def send(key: str) -> tuple[str, int, bytes]:
        barrier.wait()
        status, _, body = demo_web_server.post(  # demo mode: the body names the shopper
            f"/api/v1/sales/{sale.pk}/buy",
            json.dumps({"user_id": f"user-of-{key}"}),
            {"Idempotency-Key": key},
        )
        return key, status, body

    with ThreadPoolExecutor(200) as pool:
        answers = list(pool.map(send, [key for key in keys for _ in range(2)]))

    by_key: dict[str, list[tuple[int, bytes]]] = {}
    for key, status, body in answers:
        by_key.setdefault(key, []).append((status, body))
    for key, pair in by_key.items():
        (first_status, first_body), (second_status, second_body) = pair
        assert {first_status, second_status} <= {200, 202}, f"{key}: {pair}"
        # Same order either way; byte-identical unless Kafka's ack was late for the
        # one that decided (202 "accepted_pending"; its replay says 200 "accepted").
        assert json.loads(first_body)["order_id"] == json.loads(second_body)["order_id"]
        if first_status == second_status == 200:
            assert first_body == second_body, f"{key}: {pair}"
    assert live_state(sale.pk).sold == 100
    assert redis_conn.hlen(ledger_key(sale.pk)) == 100
    assert len(orders_on_topic(sale.pk)) == 100


def test_retry_replays_the_original_answer(owner) -> None:
    sale = make_sale(owner, live=True, quantity=1)
    first = decision.buy(sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="k-1")
    assert first.outcome == Outcome.ACCEPTED
    # The sale is now sold out, paused, then ended: the key still gets its order back.
    services.sale_pause(sale_id=sale.pk)
    services.sale_end(sale_id=sale.pk)
    again = decision.buy(sale_id=sale.pk, user_id="alice", quantity=1, idempotency_key="k-1")
    assert again == first
    assert live_state(sale.pk).sold == 1


def test_a_refused_key_is_refused_again_while_the_reason_holds(owner) -> None:
    """Refusals are not recorded (tests/test_buy_refusals_not_stored.py): a retry is
    decided anew, and a shopper's units never go down, so the limit still holds."""
    sale = make_sale(owner, live=True, quantity=5, per_user_limit=1)
    decision.buy(sale_id=sale.pk, user_id="bob", quantity=1, idempotency_key="first")
    refused = decision.buy(sale_id=sale.pk, user_id="bob", quantity=1, idempotency_key="second")
    assert refused.outcome == Outcome.LIMIT_REACHED
    services.sale_restock(sale_id=sale.pk, units=10)
    assert decision.buy(sale_id=sale.pk, user_id="bob", quantity=1, idempotency_key="second") == refused
    assert live_state(sale.pk).sold == 1


def test_transient_answers_are_not_recorded(owner) -> None:
    sale = make_sale(owner, live=True, quantity=5, rate=1, burst=1)
    assert (
        decision.buy(sale_id=sale.pk, user_id="a", quantity=1, idempotency_key="a").outcome
        == Outcome.ACCEPTED
    )
    limited = decision.buy(sale_id=sale.pk, user_id="b", quantity=1, idempotency_key="b")
    assert limited.outcome == Outcome.RATE_LIMITED
    import time

    time.sleep(1.1)  # the bucket refills one token a second
    assert (
        decision.buy(sale_id=sale.pk, user_id="b", quantity=1, idempotency_key="b").outcome
        == Outcome.ACCEPTED
    )


def test_same_key_different_request_is_refused(owner) -> None:
    sale = make_sale(owner, live=True, quantity=5, per_user_limit=3)
    decision.buy(sale_id=sale.pk, user_id="carol", quantity=1, idempotency_key="k")
    for user, quantity in (("mallory", 1), ("carol", 2)):
        result = decision.buy(sale_id=sale.pk, user_id=user, quantity=quantity, idempotency_key="k")
        assert result.outcome == Outcome.KEY_REUSED
    assert live_state(sale.pk).sold == 1


def test_key_reuse_through_http_is_422(owner, demo_mode) -> None:
    """(Over HTTP a key is the shopper's own: another shopper's same key is another
    purchase, tests/test_shopper_identity_idempotency.py.)"""
    from django.test import Client

    sale = make_sale(owner, live=True)
    url = f"/api/v1/sales/{sale.pk}/buy"
    Client().post(url, {"user_id": "a"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same")
    response = Client().post(
        url, {"user_id": "a", "quantity": 2}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert (response.status_code, response.json()["status"]) == (422, "idempotency_key_reused")


def test_keys_live_as_long_as_the_sale_plus_a_day(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True)  # ends in an hour
    decision.buy(sale_id=sale.pk, user_id="a", quantity=1, idempotency_key="ttl")
    ttl = redis_conn.ttl(f"fg:{{{sale.pk}}}:idem:ttl")
    assert 86400 + 3500 < ttl <= 86400 + 3600


def test_sold_out_answers_come_from_memory_but_never_contradict_a_buyer(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=2)
    bought = [decision.buy(sale_id=sale.pk, user_id=u, quantity=1, idempotency_key=u) for u in ("u1", "u2")]
    assert (
        decision.buy(sale_id=sale.pk, user_id="u3", quantity=1, idempotency_key="u3").outcome
        == Outcome.SOLD_OUT
    )

    def scripts_run() -> int:
        return sum(
            v["calls"]
            for k, v in redis_conn.info("commandstats").items()
            if k in ("cmdstat_evalsha", "cmdstat_eval")
        )

    before = scripts_run()
    outcomes = Counter(
        decision.buy(sale_id=sale.pk, user_id=f"late-{n}", quantity=1, idempotency_key=f"late-{n}").outcome
        for n in range(200)
    )
    assert outcomes == {Outcome.SOLD_OUT: 200}
    assert scripts_run() == before  # no round trip for the herd

    # A buyer's retry still gets its order, through Redis.
    assert decision.buy(sale_id=sale.pk, user_id="u1", quantity=1, idempotency_key="u1") == bought[0]
    assert scripts_run() == before + 1


def test_restock_reopens_after_the_flags_expire(owner) -> None:
    import time

    sale = make_sale(owner, live=True, quantity=1)
    decision.buy(sale_id=sale.pk, user_id="a", quantity=1, idempotency_key="a")
    assert (
        decision.buy(sale_id=sale.pk, user_id="b", quantity=1, idempotency_key="b").outcome
        == Outcome.SOLD_OUT
    )
    services.sale_restock(sale_id=sale.pk, units=1)
    decision.forget_sold_out_flags()  # another process, which never saw the sale sold out
    # Even it may not sell until every process's flag has expired.
    assert (
        decision.buy(sale_id=sale.pk, user_id="c", quantity=1, idempotency_key="c").outcome
        == Outcome.SOLD_OUT
    )
    time.sleep(1.2)
    assert (
        decision.buy(sale_id=sale.pk, user_id="c", quantity=1, idempotency_key="c").outcome
        == Outcome.ACCEPTED
    )
