"""GET /metrics (dashboard/metrics.py) over real HTTP to the product's WSGI server
(granian, 2 processes, demo mode) and the real Redis: it refuses the anonymous and
a wrong token; with the token its counters equal the outcomes of a known load,
whichever process answered each buy, and so does its histogram's count; its
gauges are the sale's figures. With no token configured it is off; production
refuses a weak token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from sales import keys, services
from tests.factories import make_sale
from tests.support.dashboard import tick, ticker
from tests.support.http import WebServer
from tests.support.servers import ROOT, wait_for

# Committed rows: the server reads the sales over its own connections.
pytestmark = pytest.mark.django_db(transaction=True)


def scrape(server: WebServer, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    reply = server.request("GET", "/metrics", headers=headers)
    return reply.status, reply.text


def samples(text: str, name: str, sale_id: int) -> dict[tuple, float]:
    """{labels other than sale_id: value} of one metric's samples for one sale."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("sale_id") == str(sale_id):
                rest = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "sale_id"))
                found[rest] = sample.value
    return found


def buy(server: WebServer, sale_id: int, user: str) -> str:
    _status, _, body = server.post(
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps({"user_id": user, "quantity": 1}),
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    return json.loads(body)["status"]


def test_metrics_refuses_the_anonymous_and_a_wrong_token(demo_web_server: WebServer) -> None:
    status, body = scrape(demo_web_server, None)
    assert status == 401 and "Bearer" in body
    reply = demo_web_server.request("GET", "/metrics")
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert scrape(demo_web_server, "not-the-token")[0] == 401
    assert scrape(demo_web_server, settings.FLUX_METRICS_TOKEN)[0] == 200


def test_metrics_counts_equal_the_outcomes_of_a_known_load(owner, demo_web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=8, per_user_limit=1, rate=1_000_000, burst=1_000_000)
    answers = [buy(demo_web_server, sale.pk, f"buyer-{n}") for n in range(8)]
    answers.append(buy(demo_web_server, sale.pk, "buyer-0"))  # sold out is said before the limit
    with ThreadPoolExecutor(8) as pool:  # the herd, through both processes
        answers += pool.map(lambda n: buy(demo_web_server, sale.pk, f"late-{n}"), range(40))
    services.sale_pause(sale_id=sale.pk)
    time.sleep(keys.SOLD_OUT_FLAG_MS / 1000 + 0.2)  # the processes' sold-out flags lapse
    answers += [buy(demo_web_server, sale.pk, f"paused-{n}") for n in range(2)]
    expected = {
        (("outcome", outcome),): float(answers.count(outcome))
        for outcome in ("accepted", "sold_out", "paused")
    }
    assert expected[(("outcome", "accepted"),)] == 8 and expected[(("outcome", "sold_out"),)] == 41
    tick(ticker())  # the books' gauges

    def counted() -> bool:
        _, text = scrape(demo_web_server, settings.FLUX_METRICS_TOKEN)
        return samples(text, "flux_buy_decisions_total", sale.pk) == expected and samples(
            text, "flux_buy_duration_seconds_count", sale.pk
        ) == {(): float(len(answers))}

    # buy.lua counts at once; the processes flush what they answered from memory, and
    # every duration, once a second.
    wait_for(counted, 10, f"/metrics to count {expected} and {len(answers)} durations")
    status, text = scrape(demo_web_server, settings.FLUX_METRICS_TOKEN)
    assert status == 200
    assert samples(text, "flux_buy_duration_seconds_bucket", sale.pk)[(("le", "+Inf"),)] == len(answers)
    assert samples(text, "flux_sale_sold", sale.pk) == {(): 8.0}
    assert samples(text, "flux_sale_remaining", sale.pk) == {(): 0.0}
    assert samples(text, "flux_sale_status", sale.pk) == {(("status", "paused"),): 1.0}
    assert samples(text, "flux_sale_units_persisted", sale.pk) != {}


def test_metrics_is_off_without_a_token(settings) -> None:
    settings.FLUX_METRICS_TOKEN = ""
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403
    assert "FLUX_METRICS_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize("token", ["flux-development-metrics-token", "short"])
def test_production_refuses_a_weak_metrics_token(token: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in {"FLUX_ENV", "DEBUG"}}
    environment.update(
        DJANGO_SETTINGS_MODULE="flux_admin.settings",
        FLUX_ENV="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="shop.example",
        FLUX_METRICS_TOKEN=token,
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "FLUX_METRICS_TOKEN" in result.stderr
