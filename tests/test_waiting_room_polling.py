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
    browser, shopper, csrf, _ = in_line_with_presence(server, sale_id)
    return browser, shopper, csrf


def in_line_with_presence(server: WebServer, sale_id: int) -> tuple[BrowserSession, str, str, str]:
    """in_line, and the presence token the page's first poll sends."""
    from orders.buy import identity

    browser = BrowserSession(server)
    reply = browser.request("GET", f"/waiting-room/{sale_id}/")
    assert reply.status == 200
    shopper = identity.shopper_cookie_verify(browser.cookies[identity.SHOPPER_COOKIE])
    csrf = re.search(r'data-csrf="([^"]+)"', reply.text)
    presence = re.search(r'data-presence="([^"]+)"', reply.text)
    assert csrf is not None and presence is not None
    return browser, shopper, csrf.group(1), presence.group(1)


def test_status_gives_the_figures_and_the_shoppers_place(
    owner: Any, web_server: WebServer, redis_conn
) -> None:
    sale = make_sale(owner, live=True, quantity=7, admission_rate=3)
    in_line(web_server, sale.pk)  # someone ahead
    second, shopper, _, presence = in_line_with_presence(web_server, sale.pk)

    reply = second.request("GET", f"/waiting-room/{sale.pk}/status.json?presence={presence}")

    assert reply.status == 200
    body = reply.json()
    assert abs(body.pop("now_ms") - redis_now_ms(redis_conn)) < 5000  # the page's clock: Redis's
    assert body.pop("presence")  # the next poll's token
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


def test_only_a_poll_with_the_pages_presence_token_keeps_the_shopper_present(
    owner: Any, web_server: WebServer, redis_conn: redis.Redis
) -> None:
    """A bot kept hundreds of places present by GETting status.json once a second with
    no page at all (issue 22). A poll now counts only with the token the page's last
    answer gave this shopper for this sale."""
    sale = make_sale(owner, live=True)
    browser, shopper, _, presence = in_line_with_presence(web_server, sale.pk)
    other_sale = make_sale(owner, live=True)
    _, _, _, other_presence = in_line_with_presence(web_server, other_sale.pk)
    gone = keys.queue_key(sale.pk, "gone")
    never_seen = redis_conn.zscore(gone, shopper)
    assert never_seen is not None and never_seen < 0  # joined, not seen since

    for refused in ("", "?presence=forged", f"?presence={other_presence}"):
        reply = browser.request("GET", f"/waiting-room/{sale.pk}/status.json{refused}")
        assert reply.status == 200 and reply.json()["place"]["status"] == "waiting"
        assert redis_conn.zscore(gone, shopper) == never_seen, refused  # not a sign of life

    reply = browser.request("GET", f"/waiting-room/{sale.pk}/status.json?presence={presence}")
    seen = redis_conn.zscore(gone, shopper)
    assert seen is not None and seen > 0
    # The answer's token works for the next poll; an old one stops after its 15 s.
    assert reply.json()["presence"]


def test_a_presence_token_expires() -> None:
    from unittest import mock

    from waitingroom import presence

    token = presence.presence_token(sale_id=1, shopper="s_a")
    assert presence.presence_valid(token, sale_id=1, shopper="s_a")
    assert not presence.presence_valid(token, sale_id=1, shopper="s_b")
    assert not presence.presence_valid(token, sale_id=2, shopper="s_a")
    later = __import__("time").time() + presence.PRESENCE_TOKEN_SECONDS + 1
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert not presence.presence_valid(token, sale_id=1, shopper="s_a")
