"""Routes with the seed system's paths and bodies, so its scripts run unchanged.

POST /init is a merchant action here (token, session, or FLUX_DEMO_MODE), never open.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from sales import services
from sales.auth import DemoModeAuth, merchant_auth
from sales.buy_api import RESPONSES, order_endpoint
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


router.post("/order", auth=None, response=RESPONSES, summary="Seed-compatible buy: productId is the SKU")(
    order_endpoint
)
