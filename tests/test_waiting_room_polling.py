"""The waiting room's JSON endpoints, over real HTTP (granian), for a page whose
websocket failed: status.json gives the figures a tick carries and the shopper's
own place, and keeps the shopper present (a poll); admission.json (POST, CSRF)
gives an admitted shopper its admission token and anyone else where they stand."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis

from sales import keys
from tests.factories import make_sale
from tests.support.http import BrowserSession, WebServer
from tests.support.queue import admit, redis_now_ms

pytestmark = pytest.mark.django_db(transaction=True)


def in_line(server: WebServer, sale_id: int) -> tuple[BrowserSession, str, str]:
    """A browser that opened the waiting room: (its session, shopper id, CSRF token)."""
    from orders.buy import identity

    browser = BrowserSession(server)
    reply = browser.request("GET", f"/waiting-room/{sale_id}/")
    assert reply.status == 200
    shopper = identity.shopper_cookie_verify(browser.cookies[identity.SHOPPER_COOKIE])
    csrf = re.search(r'data-csrf="([^"]+)"', reply.text)
    assert csrf is not None
    return browser, shopper, csrf.group(1)


def test_status_gives_the_figures_and_the_shoppers_place(
    owner: Any, web_server: WebServer, redis_conn
) -> None:
    sale = make_sale(owner, live=True, quantity=7, admission_rate=3)
    in_line(web_server, sale.pk)  # someone ahead
    second, shopper, _ = in_line(web_server, sale.pk)

    reply = second.request("GET", f"/waiting-room/{sale.pk}/status.json")

    assert reply.status == 200
    body = reply.json()
    assert abs(body.pop("now_ms") - redis_now_ms(redis_conn)) < 5000  # the page's clock: Redis's
    assert body == {
        "type": "queue.tick",
        "sale_id": sale.pk,
        "status": "live",
        "serving": 0,
        "waiting": 2,
        "admission_rate": 3,
        "remaining": 7,
        "quantity": 7,
        "drawn_ms": 0,
        "place": {"status": "waiting", "ticket": 2, "ahead": 1},
    }
    # A poll is a sign of life: the shopper no longer counts as never seen since it joined.
    seen = redis_conn.zscore(keys.queue_key(sale.pk, "gone"), shopper)
    assert seen is not None and seen > 0


def test_status_without_a_shopper_gives_only_the_public_figures(owner: Any, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    reply = web_server.request("GET", f"/waiting-room/{sale.pk}/status.json")
    assert reply.status == 200
    assert "place" not in reply.json()
    assert web_server.request("GET", "/waiting-room/987654321/status.json").status == 404


def test_admission_is_given_to_the_admitted_shopper_only(
    owner: Any, web_server: WebServer, redis_conn: redis.Redis
) -> None:
    sale = make_sale(owner, live=True, admission_rate=50)
    waiting, _, waiting_csrf = in_line(web_server, sale.pk)
    admitted, shopper, csrf = in_line(web_server, sale.pk)
    admit(redis_conn, sale.pk, shopper)  # its turn came (the admitter's work)
    origin = {"Origin": web_server.origin}

    reply = admitted.request(
        "POST", f"/waiting-room/{sale.pk}/admission.json", headers={"X-CSRFToken": csrf, **origin}
    )
    assert reply.status == 200
    assert reply.json()["admitted"] is True
    assert reply.json()["admission_token"]

    reply = waiting.request(
        "POST", f"/waiting-room/{sale.pk}/admission.json", headers={"X-CSRFToken": waiting_csrf, **origin}
    )
    assert reply.status == 200
    assert reply.json()["admitted"] is False
    assert reply.json()["place"]["status"] in ("waiting", "none")


def test_admission_needs_the_csrf_token(owner: Any, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    browser, _, _ = in_line(web_server, sale.pk)
    reply = browser.request(
        "POST", f"/waiting-room/{sale.pk}/admission.json", headers={"Origin": web_server.origin}
    )
    assert reply.status == 403
