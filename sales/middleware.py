"""The buy API's short path through Django.

Every buy request would otherwise walk the whole middleware stack (sessions,
CSRF, authentication, messages), resolve its URL through ninja's patterns and
have ninja build a response it then discards: together about twice the work of
deciding the purchase. This middleware sits right after SecurityMiddleware
(which still applies its redirects and headers) and hands the two buy routes
straight to the same view functions ninja exposes (sales.buy_api), so
behaviour and the OpenAPI schema stay one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sales.buy_api import buy_endpoint, order_endpoint

BUY_PATH = re.compile(r"/api/v1/sales/(\d{1,18})/buy\Z")


class BuyShortPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            path = request.path_info
            if path == "/order":
                return self._answer(request, order_endpoint, request)
            match = BUY_PATH.match(path)
            if match:
                return self._answer(request, buy_endpoint, request, int(match.group(1)))
        return self.get_response(request)

    @staticmethod
    def _answer(request: HttpRequest, view: Callable[..., HttpResponse], *args: object) -> HttpResponse:
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it (DisallowedHost -> 400)
        response = view(*args)
        response.setdefault("X-Frame-Options", "DENY")
        return response
