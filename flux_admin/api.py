"""The project's NinjaAPI objects. They only mount each app's routers and turn
the one application error type into HTTP statuses.

- ``api`` at /api/: the merchant sales API and the buy API (docs at /api/docs).
- ``compat_api`` at /: the seed system's paths (/init), no docs of its own.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from flux_admin.api_errors import fields_of
from flux_admin.errors import ApplicationError
from sales.api import router as sales_router
from sales.compat import router as compat_router

STATUS_OF_CODE = {
    "invalid": 422,
    "not_found": 404,
    "invalid_transition": 409,
    "conflict": 409,
    "not_drained": 409,
    "unavailable": 503,
}


def install_error_handlers(target: NinjaAPI) -> None:
    @target.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
        response = target.create_response(
            request,
            {"status": error.code, "detail": error.message, "fields": error.fields},
            status=STATUS_OF_CODE.get(error.code, 400),
        )
        if error.code == "unavailable":
            response["Retry-After"] = "1"
        return response

    @target.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
        fields = fields_of(error.errors)
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        return target.create_response(
            request,
            {"status": "invalid", "detail": f"Invalid request: {summary}", "fields": fields},
            status=422,
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
            status=401,
        )


api = NinjaAPI(
    title="Flux-Gate",
    version="1",
    description="Flash-sale engine: the merchant sales API and the buy API.",
    urls_namespace="api",
)
api.add_router("/v1/sales", sales_router)
install_error_handlers(api)

compat_api = NinjaAPI(
    title="Flux-Gate seed compatibility",
    version="1",
    urls_namespace="compat",
    docs_url=None,
    openapi_url=None,
)
compat_api.add_router("", compat_router)
install_error_handlers(compat_api)
