"""With production's HTTPS settings (redirect to HTTPS, HSTS, the proxy's
X-Forwarded-Proto) the fast lane stays open and answers as Django would: over
HTTPS with Django's Strict-Transport-Security header; plain HTTP is handed to
Django, which redirects it. The wrapper is called as WSGI; Django's side through
its test client, under the same settings."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.test import Client

from orders.buy import decision
from orders.buy import lane as buy_lane
from tests.factories import make_sale

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_mode")]

TRANSPORT_HEADERS = {"date", "server", "connection", "content-length"}


@pytest.fixture(autouse=True)
def production_https(settings) -> None:
    decision.forget_sold_out_flags()
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def through_lane(path: str, body: bytes, **meta: str) -> tuple[int, dict, bytes, bool]:
    went_to_django = []

    def django(environ: dict, start_response) -> list[bytes]:
        went_to_django.append(True)
        start_response("301 Moved Permanently", [("Location", "https://127.0.0.1" + path)])
        return [b""]

    lane = buy_lane.BuyFastLane(django)
    started: list = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        **meta,
    }
    answer = b"".join(lane(environ, lambda status, headers: started.append((status, headers))))
    status, headers = started[0]
    return int(status.split()[0]), {k.lower(): v for k, v in headers}, answer, bool(went_to_django)


def through_django(path: str, body: bytes, **meta: str) -> tuple[int, dict, bytes]:
    response = Client(HTTP_HOST="127.0.0.1").post(path, body, content_type="application/json", **meta)
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content


def test_over_https_the_lane_answers_with_django_s_headers(owner) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    path = f"/api/v1/sales/{sale.pk}/buy"
    https = {"HTTP_X_FORWARDED_PROTO": "https"}

    fast = through_lane(path, b'{"user_id": "alice"}', HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **https)
    django = through_django(path, b'{"user_id": "alan"}', HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **https)

    assert fast[3] is False, "the lane handed the buy to Django"
    assert (fast[0], json.loads(fast[2])["status"]) == (200, "accepted")
    assert django[0] == 200
    strip = lambda headers: {k: v for k, v in headers.items() if k not in TRANSPORT_HEADERS}  # noqa: E731
    assert strip(fast[1]) == strip(django[1])
    assert fast[1]["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"


def test_plain_http_goes_to_django_which_redirects(owner) -> None:
    sale = make_sale(owner, live=True)
    path = f"/api/v1/sales/{sale.pk}/buy"
    body = json.dumps({"user_id": "bob"}).encode()

    fast = through_lane(path, body, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    django = through_django(path, body, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    assert fast[3] is True
    assert django[0] == 301 and django[1]["location"].startswith("https://")
    assert "strict-transport-security" not in django[1]
