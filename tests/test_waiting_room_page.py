"""The waiting room page tells a shopper the truth about the sale: waiting (its
place in line, kept live by the page's websocket, never a meta refresh) only while
the sale can still sell; sold out, ended or unknown otherwise, with the matching
status and no script. The sale's state comes
from Redis where it has one, else from PostgreSQL. Over real HTTP (granian)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone

from sales import keys, services
from sales.models import Sale, SaleStatus
from tests.factories import make_sale
from tests.support.http import HttpReply, WebServer
from tests.support.shoppers import storefront

# Committed rows: the page is served by another process.
pytestmark = pytest.mark.django_db(transaction=True)

WAITING = "You are in the waiting room"
REFRESH = 'http-equiv="refresh"'
LIVE_SCRIPT = "waitingroom/room.js"


def page(server: WebServer, sale_id: int) -> HttpReply:
    return server.request("GET", f"/waiting-room/{sale_id}/")


def buy(server: WebServer, sale: Sale, shopper_ref: str) -> int:
    """A shopper of the merchant's own shop buys (proven by a storefront token)."""
    status, _, _ = server.post(
        f"/api/v1/sales/{sale.pk}/buy",
        json.dumps({"quantity": 1}),
        {"Idempotency-Key": uuid.uuid4().hex, **storefront(sale.merchant).headers(shopper_ref)},
    )
    return status


def assert_waiting(reply: HttpReply) -> None:
    assert reply.status == 200
    assert WAITING in reply.text
    assert REFRESH not in reply.text  # the page moves by its websocket, never reloads itself
    assert LIVE_SCRIPT in reply.text


def assert_final(reply: HttpReply, status: int, words: str) -> None:
    assert reply.status == status
    assert words in reply.text
    assert WAITING not in reply.text
    assert REFRESH not in reply.text  # nothing will change: no reason to come back
    assert LIVE_SCRIPT not in reply.text


def live(owner: Any) -> Sale:
    return make_sale(owner, live=True)


def paused(owner: Any) -> Sale:
    return services.sale_pause(sale_id=make_sale(owner, live=True).pk)


def scheduled(owner: Any) -> Sale:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    return services.sale_schedule(sale_id=sale.pk)


@pytest.mark.parametrize("make", [live, paused, scheduled], ids=["live", "paused", "scheduled"])
def test_an_open_sale_keeps_the_shopper_waiting(owner, web_server: WebServer, make: Callable) -> None:
    assert_waiting(page(web_server, make(owner).pk))


def test_an_unknown_sale_is_404(web_server: WebServer) -> None:
    assert_final(page(web_server, 987654321), 404, "No such sale")


def test_a_draft_is_404(owner, web_server: WebServer) -> None:
    assert_final(page(web_server, make_sale(owner).pk), 404, "No such sale")


def test_a_sale_redis_sold_out_says_sold_out(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=1)
    assert buy(web_server, sale, "alice") == 200
    # PostgreSQL still says live (the sweep has not recorded it): Redis is the truth.
    assert Sale.objects.get(pk=sale.pk).status == SaleStatus.LIVE
    assert_final(page(web_server, sale.pk), 200, "Sold out")


def test_a_sale_recorded_sold_out_says_sold_out(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=1)
    assert buy(web_server, sale, "bob") == 200
    services.sale_mark_sold_out(sale_id=sale.pk)
    assert_final(page(web_server, sale.pk), 200, "Sold out")


def test_an_ended_sale_is_410(owner, web_server: WebServer) -> None:
    sale = services.sale_end(sale_id=make_sale(owner, live=True).pk)
    assert_final(page(web_server, sale.pk), 410, "This sale has ended")


def test_a_sale_past_its_end_time_is_410_before_the_sweep_ends_it(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, ends_at=timezone.now() + timedelta(seconds=1))
    time.sleep(1.2)
    assert Sale.objects.get(pk=sale.pk).status == SaleStatus.LIVE  # no sweep runs in tests
    assert_final(page(web_server, sale.pk), 410, "This sale has ended")


def test_without_redis_state_the_database_row_decides(
    owner, web_server: WebServer, redis_conn: redis.Redis
) -> None:
    open_sale = make_sale(owner, live=True)
    sold_out = make_sale(owner, live=True, quantity=1)
    assert buy(web_server, sold_out, "carol") == 200
    services.sale_mark_sold_out(sale_id=sold_out.pk)
    ended = services.sale_end(sale_id=make_sale(owner, live=True).pk)
    for sale in (open_sale, sold_out, ended):
        redis_conn.delete(keys.state_key(sale.pk))  # Redis lost them (re-arm would rebuild them)

    assert_waiting(page(web_server, open_sale.pk))
    assert_final(page(web_server, sold_out.pk), 200, "Sold out")
    assert_final(page(web_server, ended.pk), 410, "This sale has ended")
