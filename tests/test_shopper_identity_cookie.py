"""The hosted pages' shopper: a page sets a signed fg_shopper cookie (HttpOnly,
SameSite=Lax, Secure in production), a refresh keeps it, a buy carrying it buys
as that shopper, and a tampered cookie is refused 401 shopper_invalid with
nothing sold. Over real HTTP (granian), outside demo mode. The page used is the
sale page, the first a shopper opens (the waiting room's would also join its queue)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.core.signing import Signer

from orders.buy import identity
from sales.live import live_state
from tests.factories import make_sale
from tests.support.http import BrowserSession, HttpReply, WebServer, production_granian
from tests.support.shoppers import shopper_cookie

# Committed rows: the sale page is served by another process.
pytestmark = pytest.mark.django_db(transaction=True)


def sale_page(sale_id: int) -> str:
    return f"/sales/{sale_id}/"


def cookie_of(reply: HttpReply) -> Any:
    """The fg_shopper morsel the reply sets, or None."""
    for header in reply.headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if identity.SHOPPER_COOKIE in jar:
            return jar[identity.SHOPPER_COOKIE]
    return None


def buy(
    session: BrowserSession | WebServer, sale_id: int, headers: dict[str, str] | None = None
) -> HttpReply:
    return session.request(
        "POST",
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps({"quantity": 1}),
        {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex, **(headers or {})},
    )


def test_a_page_sets_the_signed_cookie_and_a_refresh_keeps_it(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    browser = BrowserSession(web_server)
    first = browser.get(sale_page(sale.pk))
    assert first.status == 200
    morsel = cookie_of(first)
    assert morsel is not None
    assert morsel["httponly"] and morsel["samesite"] == "Lax" and not morsel["secure"]  # development
    assert int(morsel["max-age"]) > 86400
    shopper_id = identity.shopper_cookie_verify(morsel.value)
    assert shopper_id.startswith("s_") and len(shopper_id) == 24

    again = browser.get(sale_page(sale.pk))
    assert cookie_of(again) is None  # the browser's cookie still holds: the same shopper
    assert browser.cookies[identity.SHOPPER_COOKIE] == morsel.value


def test_a_buy_with_the_page_s_cookie_buys_as_that_shopper(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, per_user_limit=1)
    browser = BrowserSession(web_server)
    browser.get(sale_page(sale.pk))
    shopper_id = identity.shopper_cookie_verify(browser.cookies[identity.SHOPPER_COOKIE])

    bought = buy(browser, sale.pk)
    assert (bought.status, bought.json()["status"], bought.json()["user_id"]) == (200, "accepted", shopper_id)
    again = buy(browser, sale.pk)  # a new purchase intent of the same shopper
    assert (again.status, again.json()["status"]) == (409, "limit_reached")
    assert live_state(sale.pk).sold == 1


def tampered_cookies() -> dict[str, str]:
    shopper_id, _ = shopper_cookie()
    genuine = identity.shopper_cookie_sign(shopper_id)
    value, signature = genuine.rsplit(":", 1)
    return {
        "signature altered": f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "another shopper's id under this signature": f"s_{'x' * 22}:{signature}",
        "unsigned id": shopper_id,
        "signed with another salt": Signer(salt="flux.other").sign(shopper_id),
        "signed with another secret": Signer(key="x" * 50, salt=identity.SHOPPER_COOKIE_SALT).sign(
            shopper_id
        ),
    }


@pytest.mark.parametrize("case", list(tampered_cookies()))
def test_a_tampered_cookie_is_refused(owner, web_server: WebServer, case: str) -> None:
    sale = make_sale(owner, live=True)
    value = tampered_cookies()[case]
    reply = buy(web_server, sale.pk, {"Cookie": f"{identity.SHOPPER_COOKIE}={value}"})
    assert (reply.status, reply.json()["status"]) == (401, "shopper_invalid"), reply.body
    assert reply.json()["sale_id"] == sale.pk
    assert live_state(sale.pk).sold == 0


def test_the_page_replaces_a_tampered_cookie(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    browser = BrowserSession(web_server)
    browser.cookies[identity.SHOPPER_COOKIE] = tampered_cookies()["signature altered"]
    morsel = cookie_of(browser.get(sale_page(sale.pk)))
    assert morsel is not None
    assert buy(browser, sale.pk).json()["status"] == "accepted"


@pytest.fixture(scope="module")
def production_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    with (
        django_db_blocker.unblock(),
        production_granian("granian-production-cookie") as server,
    ):
        yield server


def test_production_marks_the_cookie_secure(owner, production_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    morsel = cookie_of(production_server.request("GET", sale_page(sale.pk)))
    assert morsel is not None
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax"
