"""With FLUX_DEMO_MODE=true the seed's scripts call POST /init anonymously,
from a plain HTTP client with no cookies, and it works as it did in the seed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sales.live import live_state
from sales.models import Sale, SaleStatus
from tests.factories import make_merchant
from tests.support.http import WebServer, granian_server

# Committed rows: the demo merchant is read by the server, another process.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def demo_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    with (
        django_db_blocker.unblock(),
        granian_server("granian-demo", FLUX_DEMO_MODE="true", FLUX_DEMO_MERCHANT="demo") as server,
    ):
        yield server


def init(server: WebServer, body: dict[str, Any]) -> tuple[int, Any]:
    reply = server.request("POST", "/init", json.dumps(body), {"Content-Type": "application/json"})
    return reply.status, reply.json()


def test_anonymous_init_starts_a_live_sale_for_the_demo_merchant(demo_server: WebServer) -> None:
    make_merchant("demo")
    status, body = init(demo_server, {"productId": "iphone-15", "quantity": 100})
    assert status == 200, body
    assert body["message"] == "Sale initialized"
    sale = Sale.objects.get(pk=body["saleId"])
    assert (sale.merchant.username, sale.status) == ("demo", SaleStatus.LIVE)
    assert live_state(sale.pk).remaining == 100

    # Again, as the seed's load test does before each run: a fresh sale, the old one ended.
    status, again = init(demo_server, {"productId": "iphone-15", "quantity": 5})
    assert status == 200, again
    assert Sale.objects.get(pk=body["saleId"]).status == SaleStatus.ENDED
    assert live_state(again["saleId"]).remaining == 5
