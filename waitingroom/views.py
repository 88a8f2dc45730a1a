"""The waiting room page the buy API's 302 points to (a plain page for now): it
keeps the shopper waiting while the sale can still sell, and says so plainly
when it cannot (sold out, ended) or never could (unknown, a draft)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sales.selectors import ShopperSaleState, sale_shopper_state

# Ended is 410 Gone: the sale existed and will not come back. Sold out stays 200:
# a restock can reopen it. Drafts are not public, so they are "not found" too.
STATUS_OF_STATE = {
    ShopperSaleState.OPEN: 200,
    ShopperSaleState.SOLD_OUT: 200,
    ShopperSaleState.ENDED: 410,
    ShopperSaleState.UNKNOWN: 404,
}
# How often the page reloads itself while the shopper waits.
RETRY_SECONDS = 2


def waiting_room(request: HttpRequest, sale_id: int) -> HttpResponse:
    state = sale_shopper_state(sale_id=sale_id)
    context = {"sale_id": sale_id, "state": state.value, "retry_seconds": RETRY_SECONDS}
    return render(request, "waitingroom/room.html", context, status=STATUS_OF_STATE[state])
