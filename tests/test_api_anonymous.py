"""An anonymous call to a merchant route gets 401 with the unauthorized body
over real HTTP (granian), as the README promises, not ninja's 403 CSRF
answer; a signed-in session that forgets the CSRF token still gets 403."""

from __future__ import annotations

import json

import pytest

from sales.live import live_state
from tests.factories import make_sale
from tests.support.http import BrowserSession, WebServer

# Committed rows: the server under test is another process.
pytestmark = pytest.mark.django_db(transaction=True)

UNAUTHORIZED = {
    "status": "unauthorized",
    "detail": "Authentication required: send 'Authorization: Bearer <merchant token>' or sign in.",
    "fields": {},
}


@pytest.mark.parametrize(
    "cookies",
    [{}, {"csrftoken": "x" * 32}, {"sessionid": "no-such-session"}],
    ids=["no-cookies", "a-csrf-cookie", "a-stale-session-cookie"],
)
def test_anonymous_merchant_writes_are_401(owner, web_server: WebServer, cookies: dict[str, str]) -> None:
    sale = make_sale(owner, live=True)
    browser = BrowserSession(web_server)
    browser.cookies.update(cookies)
    for path, body in [
        (f"/api/v1/sales/{sale.pk}/restock", {"units": 1}),
        ("/api/v1/sales", {"sku": "anonymous"}),
        ("/init", {"productId": "anonymous", "quantity": 1}),
    ]:
        reply = browser.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        assert (reply.status, reply.json()) == (401, UNAUTHORIZED), path
    assert live_state(sale.pk).quantity == sale.quantity


def test_anonymous_read_is_401(web_server: WebServer) -> None:
    reply = web_server.request("GET", "/api/v1/sales")
    assert (reply.status, reply.json()) == (401, UNAUTHORIZED)


def test_a_signed_in_write_without_csrf_token_is_still_403(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    browser = BrowserSession(web_server)
    browser.sign_in("owner")
    reply = browser.request(
        "POST",
        f"/api/v1/sales/{sale.pk}/restock",
        json.dumps({"units": 1}),
        {"Content-Type": "application/json", "Origin": web_server.origin},
    )
    assert reply.status == 403
    assert live_state(sale.pk).quantity == sale.quantity
