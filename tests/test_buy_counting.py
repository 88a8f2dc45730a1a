"""What the buy path counts for the live dashboard and /metrics equals what it
answered: a known load through the product's WSGI server (granian, 2 processes,
demo mode) and the real Redis. buy.lua counts its decisions in its own round
trip; the answers given from a process's memory (the sold-out herd) and every
buy's duration reach the same Redis hashes through each process's flushing
thread (orders/buy/tally.py). An unknown sale gets no keys."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.buy.tally import LATENCY_FIELDS
from sales import keys, services
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.servers import wait_for

pytestmark = [pytest.mark.django_db]


def buy(server: WebServer, sale_id: int, user: str, key: str | None = None) -> str:
    _status, _, body = server.post(
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps({"user_id": user, "quantity": 1}),
        {"Idempotency-Key": key or uuid.uuid4().hex},
    )
    return json.loads(body)["status"]


def counts(redis_conn, sale_id: int) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in redis_conn.hgetall(keys.counts_key(sale_id)).items()}


def latency_total(redis_conn, sale_id: int) -> int:
    raw = redis_conn.hgetall(keys.latency_key(sale_id))
    return sum(int(raw.get(field.encode(), 0)) for field in LATENCY_FIELDS)


def test_the_counts_equal_the_answers_of_a_known_load(owner, demo_web_server: WebServer, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=5, per_user_limit=1, rate=1_000_000, burst=1_000_000)
    answers: list[str] = []

    first_key = uuid.uuid4().hex
    answers.append(buy(demo_web_server, sale.pk, "alice", first_key))  # accepted
    answers.append(buy(demo_web_server, sale.pk, "alice"))  # limit_reached
    answers.append(buy(demo_web_server, sale.pk, "alice", first_key))  # the same key: a replay
    answers += [buy(demo_web_server, sale.pk, f"buyer-{n}") for n in range(4)]  # the rest of the stock
    # The herd after the stock is gone, from many threads: both processes see it, and
    # after their first sold_out from buy.lua each answers from memory.
    with ThreadPoolExecutor(16) as pool:
        answers += pool.map(lambda n: buy(demo_web_server, sale.pk, f"late-{n}"), range(60))
    services.sale_pause(sale_id=sale.pk)
    time.sleep(keys.SOLD_OUT_FLAG_MS / 1000 + 0.2)  # the processes' sold-out flags lapse
    answers += [buy(demo_web_server, sale.pk, f"paused-{n}") for n in range(3)]

    # What the shoppers were told (a replay repeats "accepted").
    assert answers.count("accepted") == 6
    assert answers.count("limit_reached") == 1
    assert answers.count("sold_out") == 60
    assert answers.count("paused") == 3

    expected = {"accepted": 5, "replay": 1, "limit_reached": 1, "sold_out": 60, "paused": 3}
    # The processes flush what they counted in memory once a second.
    wait_for(lambda: counts(redis_conn, sale.pk) == expected, 10, f"counts {expected}")
    wait_for(lambda: latency_total(redis_conn, sale.pk) == len(answers), 10, "every buy's duration")
    assert int(redis_conn.hget(keys.latency_key(sale.pk), "sum_us")) > 0


def test_an_unknown_sale_gets_no_keys(demo_web_server: WebServer, redis_conn) -> None:
    assert buy(demo_web_server, 987654321, "alice") == "not_found"
    status, _, _ = demo_web_server.post(
        "/api/v1/sales/987654322/buy",
        json.dumps({"user_id": "alice"}),
        {"Idempotency-Key": uuid.uuid4().hex, "Admission-Token": "forged"},
    )
    assert status == 403
    time.sleep(2.5)  # two flushes of every process
    assert redis_conn.keys("fg:{98765432*") == []
