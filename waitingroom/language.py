"""The shopper's language: the shopper pages speak the browser's (Accept-Language),
among the languages Flux-Gate has a translation for; the merchant console stays in
English (its own words are not translated, and half a German admin helps no one).

A translation is one file: locale/<code>/LC_MESSAGES/django.po. Settings find the
languages from the files there (flux_admin/settings.py, LANGUAGES); `make` compiles
them (manage.py compilemessages). Strings the pages' scripts show come from the same
file: they are rendered into each page as JSON (waitingroom/words.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

# The shopper pages (waitingroom/urls.py); the buy API answers in codes, not words.
SHOPPER_PREFIXES = ("/sales/", "/waiting-room/")


class ShopperLanguageMiddleware:
    """Activates the browser's language for the shopper pages, English elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(SHOPPER_PREFIXES):
            return self.get_response(request)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response
