"""The project's NinjaAPI objects. They only mount each app's routers and turn
the one application error type into HTTP statuses.

- ``api`` at /api/: the merchant sales API and the buy API (docs at /api/docs).
- ``compat_api`` at /: the seed system's paths (/init, /order), no docs of its own.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from infra.errors import ApplicationError, fields_of, fields_summary, http_status
from orders.api import router as orders_router
from orders.buy.routes import router as buy_router
from orders.buy.routes import seed_router as seed_buy_router
from sales.api import router as sales_router
from sales.compat import router as compat_router

logger = logging.getLogger("django.request")


def install_error_handlers(target: NinjaAPI) -> None:
    @target.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
        response = target.create_response(
            request,
            {"status": error.code, "detail": error.message, "fields": error.fields},
            status=http_status(error.code),
        )
        if error.code == "unavailable":
            response["Retry-After"] = "1"
        return response

    @target.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
        fields = fields_of(error.errors)
        return target.create_response(
            request,
            {"status": "invalid", "detail": f"Invalid request: {fields_summary(fields)}", "fields": fields},
            status=422,
        )

    @target.exception_handler(HttpError)
    def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        # ninja's own refusals (a body that is not JSON: 400; a session call without
        # its CSRF token: 403) in the one error shape, which the schema documents.
        code = {400: "malformed", 403: "forbidden"}.get(error.status_code, "error")
        return target.create_response(
            request, {"status": code, "detail": str(error), "fields": {}}, status=error.status_code
        )

    @target.exception_handler(Exception)
    def internal_error(request: HttpRequest, error: Exception) -> HttpResponse:
        # Logged with its traceback, answered without it, in DEBUG too: the API's
        # clients get JSON they can parse, never a page naming our code.
        logger.error("Internal error: %s %s", request.method, request.path, exc_info=error)
        return target.create_response(
            request, {"status": "error", "detail": "Internal error.", "fields": {}}, status=500
        )

    @target.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
        return target.create_response(
            request,
            {
                "status": "unauthorized",
                "detail": "Authentication required: send 'Authorization: Bearer <merchant token>' or sign in.",
                "fields": {},
            },
            status=http_status("unauthorized"),
        )


@csrf_exempt  # nothing is done: a POST is told "not found", not "CSRF failed"
def api_not_found(request: HttpRequest, unmatched: str = "") -> HttpResponse:
    """A path under /api/ that names no route (/api/v1/sales/abc): JSON like every
    other API answer, not Django's HTML page."""
    body = {"status": "not_found", "detail": f"No API route {request.path}.", "fields": {}}
    return HttpResponse(json.dumps(body), status=404, content_type="application/json")


class SwaggerWithCsrf(Swagger):
    """Swagger UI from the project's static files, whose "Try it out" sends the
    CSRF token, so a merchant signed in to the admin can call the session-
    authenticated routes from /api/docs."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "swagger_settings": json.dumps(swagger_settings, indent=1),
            "api": api,
            # ninja gives the page's script the token (data-csrf-token, sent as
            # X-CSRFToken) only when the API-wide auth is cookie-based. Ours is set
            # per route (the buy API is open), so it never did and every session
            # call got 403. Rendering {{ csrf_token }} also sets the csrftoken cookie
            # the header is checked against.
            "add_csrf": True,
        }
        # ninja's template ("ninja" is in INSTALLED_APPS): assets from STATIC_URL, never
        # the CDN page ninja falls back to, which is blank on a machine without internet.
        return render(request, self.template, context)


api = NinjaAPI(
    title="Flux-Gate",
    version="1",
    description="Flash-sale engine: the merchant sales API and the buy API.",
    urls_namespace="api",
    docs=SwaggerWithCsrf(),
    # In production /api/docs and /api/openapi.json are for signed-in merchants and
    # operators (the admin's sign-in); in development anyone on the machine reads them.
    docs_decorator=staff_member_required if settings.PRODUCTION else None,
)
api.add_router("/v1/sales", sales_router)
api.add_router("/v1/sales", buy_router)
api.add_router("/v1/sales", orders_router)
install_error_handlers(api)

compat_api = NinjaAPI(
    title="Flux-Gate seed compatibility",
    version="1",
    urls_namespace="compat",
    docs_url=None,
    openapi_url=None,
)
compat_api.add_router("", compat_router)
compat_api.add_router("", seed_buy_router)
install_error_handlers(compat_api)
