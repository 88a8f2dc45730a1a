"""The buy API's fast lane: its two routes answered in front of Django.

Under a flash sale nearly every request is a buy, and most of them are answered
"sold out" from memory in a few microseconds. Through Django's handler each one
still paid for a WSGIRequest, the request_started/finished signals, the
middleware chain and a HttpResponse, several times what the answer itself costs
(measured per answer: docs/BENCHMARKS.md, "What changed since the figures at the edge").

This WSGI wrapper (flux_admin/wsgi.py) serves POST /api/v1/sales/{id}/buy and
POST /order itself, with the same edge functions as the ninja routes
(orders.buy.edge.buy_answer / order_answer), and adds the headers Django's
SecurityMiddleware and XFrameOptionsMiddleware add to every answer. Everything
else goes to Django unchanged, and so does a buy request that Django would
treat differently: a Host not in ALLOWED_HOSTS (Django answers 400), a plain
HTTP request where SECURE_SSL_REDIRECT sends it to HTTPS (Django redirects),
or a deployment that takes the host from X-Forwarded-Host. Over HTTPS (as
SECURE_PROXY_SSL_HEADER tells it, the way Django's request.is_secure() does)
the lane adds the Strict-Transport-Security header Django would.
tests/test_buy_fast_lane.py and tests/test_buy_fast_lane_production.py hold
the two lanes to the same answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from orders.buy.edge import Answer, buy_answer, order_answer

logger = logging.getLogger("django.request")

BUY_PATH = re.compile(r"/api/v1/sales/(\d{1,18})/buy\Z")
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
INTERNAL_ERROR = Answer(500, b'{"status": "error", "detail": "Internal error."}')

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]
Meta = Mapping[str, Any]  # a WSGI environ, or the asyncio front's equivalent


def django_headers() -> list[tuple[str, str]] | None:
    """The headers Django's middleware adds to every API answer, whatever the
    request, or None when the host itself depends on the request (then the fast
    lane stays closed)."""
    if settings.USE_X_FORWARDED_HOST:
        return None
    headers = [("X-Frame-Options", settings.X_FRAME_OPTIONS)]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers


def hsts_header() -> tuple[str, str] | None:
    """Strict-Transport-Security as Django's SecurityMiddleware writes it (HTTPS only)."""
    if not settings.SECURE_HSTS_SECONDS:
        return None
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return ("Strict-Transport-Security", value)


def https_test() -> Callable[[Meta], bool]:
    """Whether a request came over HTTPS, as Django's HttpRequest.is_secure() says:
    the proxy's header when SECURE_PROXY_SSL_HEADER names one, else the WSGI scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER

        def by_proxy(environ: Meta) -> bool:
            value = environ.get(header)
            # Django takes the first value of a comma-separated header.
            return value is not None and value.split(",", 1)[0].strip() == secure_value

        return by_proxy
    return lambda environ: environ.get("wsgi.url_scheme") == "https"


@lru_cache(maxsize=64)
def host_allowed(host: str) -> bool:
    """Django's ALLOWED_HOSTS check (HttpRequest.get_host), cached per Host header."""
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


class BuyFastLane:
    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app
        self.extra_headers = django_headers()
        # Read once: settings do not change while a process serves.
        self.is_https = https_test()
        self.redirects_http = settings.SECURE_SSL_REDIRECT
        self.https_headers = [*(self.extra_headers or ()), *filter(None, [hsts_header()])]

    def route(self, environ: Meta) -> tuple[int | None, list[tuple[str, str]]] | None:
        """Whether the lane answers this request: (the sale id, None for the seed's
        /order; the headers Django would add), or None when Django must (not a buy,
        or a buy Django treats otherwise). The asyncio front asks the same question."""
        # The hot path: two string tests for every request that is not a buy.
        if environ.get("REQUEST_METHOD") == "POST" and self.extra_headers is not None:
            if "%00" in environ.get("QUERY_STRING", ""):
                return None  # Django refuses a NUL in the URL (flux_admin/middleware.py)
            path = environ.get("PATH_INFO", "")
            match = None if path == "/order" else BUY_PATH.match(path)
            if (match or path == "/order") and host_allowed(environ.get("HTTP_HOST", "")):
                https = self.is_https(environ)
                if https or not self.redirects_http:  # else Django redirects it to HTTPS
                    sale_id = int(match.group(1)) if match else None  # None: the seed's /order
                    return sale_id, self.https_headers if https else self.extra_headers
        return None

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        route = self.route(environ)
        if route is None:
            return self.django_app(environ, start_response)
        sale_id, extra_headers = route
        return self._serve(sale_id, environ, start_response, extra_headers)

    def _serve(
        self,
        sale_id: int | None,
        environ: dict,
        start_response: StartResponse,
        extra_headers: list[tuple[str, str]],
    ) -> list[bytes]:
        def read_body(length: int) -> bytes:
            return environ["wsgi.input"].read(length) if length else b""

        try:
            if sale_id is None:
                answer = order_answer(environ, read_body)
            else:
                answer = buy_answer(sale_id, environ, read_body)
        except Exception:  # what Django's handler would do: log it, answer 500, no traceback out
            logger.exception("Internal error on the buy fast lane: %s", environ.get("PATH_INFO"))
            answer = INTERNAL_ERROR
        headers = answer.headers()
        headers.append(("Content-Length", str(len(answer.body))))
        headers.extend(extra_headers)
        start_response(STATUS_LINES[answer.status], headers)
        return [answer.body]
