"""/api/docs' "Try it out" works for a merchant signed in to the admin: the
page hands its script the CSRF token, the script sends it as X-CSRFToken, and
a write with the session cookie succeeds. Over real HTTP (granian), where
Django's CSRF checks apply; a cookie-authenticated write without the token
is still refused, and a bearer token needs none."""

from __future__ import annotations

import json
import re

import pytest

from sales.models import MerchantToken, Sale
from tests.support.http import BrowserSession, WebServer

# Committed rows: the merchant signs in through another process.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_SALE = {
    "product_name": "iPhone 15",
    "sku": "docs-try-it-out",
    "unit_price": "449.00",
    "quantity": 100,
    "starts_at": "2030-12-01T10:00:00Z",
    "ends_at": "2030-12-01T11:00:00Z",
}


def body_data(html: str) -> dict[str, str]:
    """The <body data-*> attributes the page's script (ninja/swagger-ui-init.js) reads."""
    body = re.search(r"<body\b([^>]*)>", html)
    assert body is not None
    return {name: value for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', body[1])}


def headers_the_page_script_adds(html: str) -> dict[str, str]:
    """What swagger-ui-init.js's request interceptor adds: X-CSRFToken from
    data-csrf-token, only when data-api-csrf is set."""
    data = body_data(html)
    if data.get("api-csrf") and data.get("csrf-token"):
        return {"X-CSRFToken": data["csrf-token"]}
    return {}


def create_sale(session: BrowserSession, headers: dict[str, str], sku: str) -> int:
    reply = session.request(
        "POST",
        "/api/v1/sales",
        json.dumps({**NEW_SALE, "sku": sku}),
        {"Content-Type": "application/json", **headers},
    )
    return reply.status


def test_try_it_out_with_a_signed_in_session_creates_a_sale(owner, web_server: WebServer) -> None:
    browser = BrowserSession(web_server)
    browser.sign_in("owner")
    docs = browser.get("/api/docs")
    assert docs.status == 200
    assert "csrftoken" in browser.cookies  # the token the header is checked against

    same_origin = {"Origin": web_server.origin, "Referer": f"{web_server.origin}/api/docs"}
    status = create_sale(browser, {**same_origin, **headers_the_page_script_adds(docs.text)}, "docs-1")
    assert status == 201
    assert Sale.objects.get(sku="docs-1").merchant == owner


def test_a_session_write_without_the_csrf_token_is_refused(owner, web_server: WebServer) -> None:
    browser = BrowserSession(web_server)
    browser.sign_in("owner")
    same_origin = {"Origin": web_server.origin, "Referer": f"{web_server.origin}/api/docs"}
    assert create_sale(browser, same_origin, "docs-2") == 403
    assert not Sale.objects.filter(sku="docs-2").exists()


def test_a_bearer_token_write_needs_no_csrf_token(owner, web_server: WebServer) -> None:
    _, raw = MerchantToken.issue(merchant=owner, name="docs")
    status = create_sale(BrowserSession(web_server), {"Authorization": f"Bearer {raw}"}, "docs-3")
    assert status == 201
    assert Sale.objects.get(sku="docs-3").merchant == owner
