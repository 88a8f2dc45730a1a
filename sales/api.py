"""The merchant sales API: /api/v1/sales. Thin: parse, call a service, shape."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router
from ninja.responses import Status

from sales import selectors, services
from sales.merchants import merchant_auth
from sales.models import Sale
from sales.schemas import ErrorOut, RestockIn, SaleIn, SaleOut, SalePatch

router = Router(tags=["sales"])

# 400: a body that is not JSON; 403: a signed-in session's call without its CSRF token.
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    503: ErrorOut,
}
# A sale id is a PostgreSQL bigint.
SaleId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def sale_out(sale: Sale, figures: selectors.SaleFigures | None = None) -> SaleOut:
    figures = figures or selectors.sale_figures(sale=sale)
    return SaleOut(
        id=sale.pk,
        merchant=sale.merchant.get_username(),
        product_name=sale.product_name,
        image_url=sale.image_url,
        sku=sale.sku,
        unit_price=sale.unit_price,
        currency=sale.currency,
        quantity=sale.quantity,
        starts_at=sale.starts_at,
        ends_at=sale.ends_at,
        queue_opens_at=sale.queue_opens_at,
        per_user_limit=sale.per_user_limit,
        units_per_address=sale.units_per_address,
        admissions_per_address=sale.admissions_per_address,
        proof_bits=sale.proof_bits,
        admission_rate=sale.admission_rate,
        rate=sale.rate,
        burst=sale.burst,
        status=sale.status,
        figures=figures.__dict__,
    )


@router.post("", response={201: SaleOut, **ERRORS}, auth=merchant_auth, summary="Create a sale (draft)")
def create_sale(request: HttpRequest, payload: SaleIn) -> Status[SaleOut]:
    sale = services.sale_create(merchant=request.user, **payload.model_dump())
    return Status(201, sale_out(sale))


@router.get("", response={200: list[SaleOut], **ERRORS}, auth=merchant_auth, summary="Your sales")
def list_sales(request: HttpRequest) -> list[SaleOut]:
    sales = list(selectors.sale_list(user=request.user)[:200])
    figures = selectors.sale_figures_many(sales=sales)
    return [sale_out(sale, figures[sale.pk]) for sale in sales]


@router.get(
    "/{int:sale_id}",
    response={200: SaleOut, **ERRORS},
    auth=merchant_auth,
    summary="A sale with live figures",
)
def get_sale(request: HttpRequest, sale_id: SaleId) -> SaleOut:
    return sale_out(selectors.sale_get(user=request.user, sale_id=sale_id))


@router.patch(
    "/{int:sale_id}",
    response={200: SaleOut, **ERRORS},
    auth=merchant_auth,
    summary="Edit a draft or scheduled sale; a running one's rates only (admission_rate, rate, burst)",
)
def update_sale(request: HttpRequest, sale_id: SaleId, payload: SalePatch) -> SaleOut:
    selectors.sale_get(user=request.user, sale_id=sale_id)
    sale = services.sale_update(sale_id=sale_id, **payload.model_dump(exclude_unset=True))
    return sale_out(sale)


def _transition_endpoint(action: str, service: object, summary: str) -> None:
    def endpoint(request: HttpRequest, sale_id: SaleId) -> SaleOut:
        selectors.sale_get(user=request.user, sale_id=sale_id)  # 404 unless it is yours
        return sale_out(service(sale_id=sale_id))  # type: ignore[operator]

    endpoint.__name__ = f"sale_{action.replace('-', '_')}"
    router.post(
        f"/{{int:sale_id}}/{action}", response={200: SaleOut, **ERRORS}, auth=merchant_auth, summary=summary
    )(endpoint)


_transition_endpoint("schedule", services.sale_schedule, "Schedule: go live and end at the sale's times")
_transition_endpoint("go-live", services.sale_go_live, "Arm the sale now")
_transition_endpoint("pause", services.sale_pause, "Pause: buys are refused until resumed")
_transition_endpoint("resume", services.sale_resume, "Resume a paused sale")
_transition_endpoint("end", services.sale_end, "End the sale (final)")
_transition_endpoint(
    "rearm", services.sale_rearm, "Write the live state again (rebuilt from PostgreSQL if Redis lost it)"
)


@router.post(
    "/{int:sale_id}/restock", response={200: SaleOut, **ERRORS}, auth=merchant_auth, summary="Add units"
)
def restock_sale(request: HttpRequest, sale_id: SaleId, payload: RestockIn) -> SaleOut:
    selectors.sale_get(user=request.user, sale_id=sale_id)
    return sale_out(services.sale_restock(sale_id=sale_id, units=payload.units))
