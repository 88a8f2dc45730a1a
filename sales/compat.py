"""The seed system's POST /init, with its path and body, so its scripts run unchanged
(its POST /order is the buy path's: orders/buy/routes.py).

POST /init is a merchant action here (token, session, or FLUX_DEMO_MODE), never open.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from sales import services
from sales.merchants import DemoModeAuth, merchant_auth
from sales.schemas import ErrorOut, InitIn, InitOut

router = Router(tags=["seed compatibility"])


@router.post(
    "/init",
    response={200: InitOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut},
    auth=[*merchant_auth, DemoModeAuth()],
    summary="Seed-compatible: start a fresh live sale of productId with quantity units",
)
def init_sale(request: HttpRequest, payload: InitIn) -> InitOut:
    sale = services.sale_init(
        merchant=request.user, sku=payload.productId, quantity=payload.quantity, unit_price=payload.price
    )
    return InitOut(message="Sale initialized", productId=sale.sku, quantity=sale.quantity, saleId=sale.pk)
