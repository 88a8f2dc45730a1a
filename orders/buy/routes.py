"""The buy routes as django-ninja sees them: documented in /api/docs and served
by Django when the fast lane (lane.py) hands a request over. Both call the same
edge (edge.py), so either way the answer is the same."""

from __future__ import annotations

from ninja import Router

from orders.buy.edge import BUY_DOC, BUY_REQUEST_BODY, RESPONSES, buy_endpoint, order_endpoint

# Mounted under /api/v1/sales (flux_admin/api.py): open to shoppers, no merchant auth.
router = Router(tags=["buy"])
router.post(
    "/{int:sale_id}/buy",
    auth=None,
    response=RESPONSES,
    openapi_extra=BUY_REQUEST_BODY,
    summary="Buy (the flash-sale hot path)",
    description=BUY_DOC,
)(buy_endpoint)

# Mounted at / beside the seed's /init: the seed's buy, productId being the SKU.
seed_router = Router(tags=["seed compatibility"])
seed_router.post(
    "/order", auth=None, response=RESPONSES, summary="Seed-compatible buy: productId is the SKU"
)(order_endpoint)
