"""Project-wide request checks that belong to no app."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse


class RefuseNulCharacters:
    """400 for a URL holding a NUL character (%00), before any view sees it.

    PostgreSQL text cannot hold NUL: a query parameter carrying one into a
    filter (the admin's ?status__exact=%00) made the database refuse and the
    page answer 500. No valid URL of ours has one, so it is refused here once,
    rather than in each view. Bodies are checked where they are parsed (Django
    forms refuse NUL; the API's schemas refuse control characters)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return JsonResponse(
                {"status": "invalid", "detail": "The URL holds a NUL character (%00).", "fields": {}},
                status=400,
            )
        return self.get_response(request)
