"""In production a form POST from a foreign origin is refused even with a valid
CSRF cookie and token, and the same POST from the site's own origin is not.
Over real HTTP, against a granian started with the production profile."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.http import BrowserSession, WebServer, production_granian

# The server signs in against the test database, which pytest-django creates only
# when a collected test is marked for it.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def production_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    with (
        django_db_blocker.unblock(),
        production_granian("granian-production") as server,
    ):
        yield server


def login_post(server: WebServer, origin: str) -> tuple[int, bytes]:
    """The admin's login form posted with a valid csrftoken cookie and field
    (production marks the cookie Secure; a raw client sends it over HTTP anyway)."""
    browser = BrowserSession(server)
    form = browser.get("/admin/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
    assert form.status == 200 and token is not None
    assert "csrftoken" in browser.cookies
    reply = browser.request(
        "POST",
        "/admin/login/",
        urlencode({"csrfmiddlewaretoken": token[1].decode(), "username": "nobody", "password": "wrong"}),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin},
    )
    return reply.status, reply.body


def test_a_foreign_origin_is_refused(production_server: WebServer) -> None:
    status, body = login_post(production_server, "http://evil.example")
    assert status == 403
    assert b"CSRF verification failed" in body


def test_the_sites_own_origin_is_not(production_server: WebServer) -> None:
    status, body = login_post(production_server, production_server.origin)
    assert b"CSRF verification failed" not in body
    # The form again, with the wrong-credentials message: the CSRF check passed.
    assert status == 200
    assert b"Please enter the correct username and password" in body
