"""Production over real HTTP, as nginx (bin/proxy) forwards it: plain HTTP is
redirected to HTTPS, HTTPS answers carry HSTS, the buy API included (the fast
lane stays on); /api/docs and its schema are for signed-in staff only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import make_sale
from tests.support.http import BrowserSession, WebServer, production_granian
from tests.support.shoppers import storefront

pytestmark = pytest.mark.django_db

HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def production_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    with (
        django_db_blocker.unblock(),
        production_granian("granian-production-https", SECURE_SSL_REDIRECT=None) as server,
    ):
        yield server


def test_plain_http_is_redirected_to_https(production_server: WebServer) -> None:
    reply = production_server.request("GET", "/admin/login/")
    assert reply.status == 301
    assert reply.headers["Location"] == f"https://127.0.0.1:{production_server.port}/admin/login/"


def test_https_answers_carry_hsts_the_buy_api_too(owner, production_server: WebServer) -> None:
    page = production_server.request("GET", "/admin/login/", headers=HTTPS)
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")

    sale = make_sale(owner, live=True)
    status, headers, body = production_server.post(
        f"/api/v1/sales/{sale.pk}/buy",
        json.dumps({"quantity": 1}),
        {**HTTPS, "Idempotency-Key": uuid.uuid4().hex, **storefront(owner).headers("ann")},
    )
    assert (status, json.loads(body)["status"]) == (200, "accepted")
    headers = {name.lower(): value for name, value in headers.items()}
    assert headers.get("strict-transport-security") == page.headers["Strict-Transport-Security"], headers


@pytest.mark.django_db(transaction=True)  # the server signs the merchant in: the row must be committed
@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json"])
def test_api_docs_are_for_signed_in_staff(owner, production_server: WebServer, path: str) -> None:
    anonymous = production_server.request("GET", path, headers=HTTPS)
    assert anonymous.status == 302
    assert anonymous.headers["Location"].startswith("/admin/login/")

    browser = BrowserSession(production_server)
    browser.sign_in(owner.username, headers=HTTPS)
    assert browser.get(path, headers=HTTPS).status == 200
