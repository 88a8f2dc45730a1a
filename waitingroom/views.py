"""The shopper's pages (mounted by flux_admin/urls.py): the sale page, the
waiting room, and the waiting room's two JSON endpoints (its figures for a page
whose websocket failed, and the admission token of an admitted shopper).

Each page says the truth about the sale in words and in its HTTP status, and
makes sure the browser holds its signed shopper cookie (waitingroom/shopper.py):
the identity its buys, its place in line and its websocket carry.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from infra.errors import ServiceUnavailable
from orders.buy import identity
from orders.receipts import (
    ShopperReceipts,
    receipt_get,
    receipt_signature_valid,
    receipt_url,
    shopper_receipts,
)
from sales.selectors import ShopperSaleState, sale_shopper_state
from waitingroom.admission import admission_issue
from waitingroom.pages import RoomFigures, SaleShowcase, room_figures, sale_showcase
from waitingroom.presence import presence_token, presence_valid
from waitingroom.proof import ProofRefused, challenge_new
from waitingroom.queue import Place, PlaceStatus, queue_join, queue_place, queue_polled
from waitingroom.shopper import ShopperCheckFailed, shopper_ensure, shopper_mint, shopper_proven_bits

# Ended is 410 Gone: the sale existed and will not come back. Sold out stays 200:
# a restock can reopen it. Drafts are not public, so they are "not found" too.
STATUS_OF_STATE = {
    ShopperSaleState.OPEN: 200,
    ShopperSaleState.SOLD_OUT: 200,
    ShopperSaleState.ENDED: 410,
    ShopperSaleState.UNKNOWN: 404,
}
# A refused join: the page says why, with the status that matches. (not_found: the
# row says open but Redis lost the live state; the sweep re-arms it, so the page
# waits without a place and the shopper joins on the next visit.)
STATE_OF_REFUSED_JOIN = {
    PlaceStatus.SOLD_OUT: ShopperSaleState.SOLD_OUT,
    PlaceStatus.ENDED: ShopperSaleState.ENDED,
}


def _cookie_shopper(request: HttpRequest) -> str | None:
    """The shopper of a valid fg_shopper cookie; None when there is none or it was
    tampered with (the JSON endpoints never set a cookie: the pages do)."""
    return identity.shopper_of_cookie(request.COOKIES.get(identity.SHOPPER_COOKIE))


# The sales whose pages give a new visitor a shopper cookie: they may still sell
# (scheduled, live, paused; sold out until a restock or returned units reopen it).
_MINTING_STATES = frozenset({ShopperSaleState.OPEN, ShopperSaleState.SOLD_OUT})


def _challenge(request: HttpRequest, sale: SaleShowcase | None, state: ShopperSaleState) -> str | None:
    """The proof-of-work challenge the page solves before its browser gets a shopper
    cookie good for this sale (waitingroom/shopper.py); None when it needs none: the
    sale asks no proof, its cookie carries enough, or the sale no longer sells."""
    if sale is None or sale.proof_bits == 0 or state not in _MINTING_STATES:
        return None
    bits = shopper_proven_bits(request)
    if bits is not None and bits >= sale.proof_bits:
        return None
    return challenge_new(sale_id=sale.sale_id, bits=sale.proof_bits)


def _page(
    request: HttpRequest, template: str, context: dict, status: int, state: ShopperSaleState
) -> HttpResponse:
    """Render a page, with a shopper cookie for a new visitor of a sale that may still
    sell and asks no proof of work (a sale that asks one gives the page a challenge:
    context["challenge"]). No such sale, or an ended one, gives none: one GET used to
    mint a shopper, even for a sale that does not exist (issue 22)."""
    response = render(request, template, context, status=status)
    sale = context.get("sale")
    if state in _MINTING_STATES and not (sale and sale.proof_bits):
        shopper_ensure(request, response)
    return response


def _receipts(request: HttpRequest, sale_id: int) -> ShopperReceipts | None:
    """The orders the server accepted for the visitor's shopper cookie on the sale
    (none for a new visitor: a new cookie has bought nothing)."""
    shopper = _cookie_shopper(request)
    return shopper_receipts(sale_id=sale_id, shopper=shopper) if shopper else None


def _figures_or_none(sale_id: int) -> RoomFigures | None:
    try:
        return room_figures(sale_id=sale_id)
    except ServiceUnavailable:
        return None


def _drawn_ms(sale_id: int) -> int:
    figures = _figures_or_none(sale_id)
    return figures.drawn_ms if figures else 0


def _place_json(place: Place) -> dict[str, object]:
    return {"status": place.status.value, "ticket": place.ticket, "ahead": place.ahead}


@require_GET
def sale_page(request: HttpRequest, sale_id: int) -> HttpResponse:
    """GET /sales/<id>/: the product, its price, the stock left, a countdown to the
    start and a Buy button (waitingroom/static/waitingroom/sale.js buys)."""
    state = sale_shopper_state(sale_id=sale_id)
    showcase = sale_showcase(sale_id=sale_id) if state != ShopperSaleState.UNKNOWN else None
    if showcase is None:
        state = ShopperSaleState.UNKNOWN
    try:
        figures = room_figures(sale_id=sale_id) if showcase is not None else None
    except ServiceUnavailable:
        figures = None  # the page still shows the product; the socket brings the figures
    context = {
        "sale_id": sale_id,
        "state": state.value,
        "sale": showcase,
        "status": figures.status if figures else state.value,
        "remaining": figures.remaining if figures else (showcase.quantity if showcase else 0),
        "quantity": (figures.quantity if figures else 0) or (showcase.quantity if showcase else 0),
        # The page's clock: Redis's, as every tick's now_ms (this server's, when Redis did not answer).
        "server_ms": figures.now_ms if figures else int(time.time() * 1000),
        "receipts": _receipts(request, sale_id) if showcase is not None else None,
        "challenge": _challenge(request, showcase, state),
    }
    return _page(request, "waitingroom/sale.html", context, STATUS_OF_STATE[state], state)


@require_GET
@never_cache
def waiting_room(request: HttpRequest, sale_id: int) -> HttpResponse:
    """GET /waiting-room/<id>/, where the buy API sends a shopper it turns away
    (over the rate, or others already waiting): the shopper takes a place at the
    back of the queue, or gets its own back (a refresh keeps it). The page then
    watches the queue move over its websocket (waitingroom/consumers.py)."""
    state = sale_shopper_state(sale_id=sale_id)
    showcase = sale_showcase(sale_id=sale_id) if state != ShopperSaleState.UNKNOWN else None
    context: dict[str, object] = {
        "sale_id": sale_id,
        "sale": showcase,
        "admission_seconds": settings.ADMISSION_TOKEN_SECONDS,
        "receipts": _receipts(request, sale_id) if showcase is not None else None,
    }
    if state != ShopperSaleState.OPEN:
        context["state"] = state.value
        return _page(request, "waitingroom/room.html", context, STATUS_OF_STATE[state], state)
    challenge = _challenge(request, showcase, state)
    if challenge is not None:
        # No place without a shopper whose cookie cost the sale's proof of work: the page
        # solves the challenge, gets its cookie, and loads again to join.
        context.update(state=state.value, place=PlaceStatus.PROOF_REQUIRED.value, challenge=challenge)
        return _page(request, "waitingroom/room.html", context, 200, state)
    # The shopper is needed before the page is drawn (its place is on it): its cookie
    # goes on a holder, then onto the page.
    holder = HttpResponse()
    shopper = shopper_ensure(request, holder)
    try:
        place = queue_join(
            sale_id=sale_id,
            shopper=shopper,
            client_address=identity.client_address_group(request.META),
            proof_bits=shopper_proven_bits(request) or 0,
        )
    except ServiceUnavailable:
        place = None  # the page falls back to polling, which tells it when Redis is back
    status = 200
    if place is not None and place.status in STATE_OF_REFUSED_JOIN:
        state = STATE_OF_REFUSED_JOIN[place.status]
        status = STATUS_OF_STATE[state]
    elif place is not None and place.status in (PlaceStatus.ADDRESS_FULL, PlaceStatus.ADDRESS_DONE):
        status = 429
    elif place is not None and place.status == PlaceStatus.NOT_OPEN:
        figures = _figures_or_none(sale_id)
        context.update(
            state=state.value,
            place=place.status.value,
            opens_at=datetime.fromtimestamp((place.opens_ms or 0) / 1000, UTC),
            # How long until then, on Redis's clock: the page reloads then, not by its own clock.
            opens_in_ms=max(0, (place.opens_ms or 0) - figures.now_ms) if figures else 60_000,
        )
        return _page(request, "waitingroom/room.html", context, 200, state)
    context.update(
        state=state.value,
        place=place.status.value if place else "unknown",
        ticket=place.ticket if place else None,
        ahead=place.ahead if place else None,
        serving=place.serving if place else None,
        # A page that joined before the pre-queue's draw asks for its new place after it.
        drawn_ms=_drawn_ms(sale_id),
        # What its first poll sends, should its websocket fail (waitingroom/presence.py).
        presence=presence_token(sale_id=sale_id, shopper=shopper),
    )
    response = render(request, "waitingroom/room.html", context, status=status)
    response.cookies.update(holder.cookies)
    return response


@require_GET
@never_cache
def waiting_room_status(request: HttpRequest, sale_id: int) -> JsonResponse:
    """GET /waiting-room/<id>/status.json: the figures the websocket's ticks carry,
    and the shopper's place, for a page whose websocket failed. A poll that carries
    the presence token of the page's last answer (?presence=, waitingroom/presence.py)
    keeps the shopper present (queue_polled), as an open websocket does; any other
    request only reads. Each answer to a shopper carries the next token."""
    shopper = _cookie_shopper(request)
    try:
        figures = room_figures(sale_id=sale_id)
        if figures is None:
            return JsonResponse({"status": "not_found", "sale_id": sale_id}, status=404)
        body: dict[str, object] = {"type": "queue.tick", **figures.as_message()}
        if shopper is not None:
            if presence_valid(request.GET.get("presence"), sale_id=sale_id, shopper=shopper):
                queue_polled(sale_id=sale_id, shopper=shopper)
            body["place"] = _place_json(queue_place(sale_id=sale_id, shopper=shopper))
            body["presence"] = presence_token(sale_id=sale_id, shopper=shopper)
    except ServiceUnavailable:
        return JsonResponse({"status": "unavailable", "sale_id": sale_id}, status=503)
    return JsonResponse(body)


@require_POST
@never_cache
def waiting_room_admission(request: HttpRequest, sale_id: int) -> JsonResponse:
    """POST /waiting-room/<id>/admission.json (CSRF): the admission token of the
    shopper whose turn came, which the page sends with its purchase (the
    Admission-Token header). Not admitted (yet, or any more): 200 with
    "admitted": false and where the shopper stands, so the page keeps waiting
    or rejoins; a refusal status would be logged by the browser as an error."""
    shopper = _cookie_shopper(request)
    if shopper is None:
        detail = "No shopper: open the waiting room page again."
        return JsonResponse({"status": "shopper_required", "detail": detail}, status=401)
    try:
        place = queue_place(sale_id=sale_id, shopper=shopper)
        token = (
            admission_issue(sale_id=sale_id, shopper=shopper)
            if place.status == PlaceStatus.ADMITTED
            else None
        )
    except ServiceUnavailable:
        return JsonResponse({"status": "unavailable", "sale_id": sale_id}, status=503)
    if token is None:
        return JsonResponse({"admitted": False, "place": _place_json(place)})
    # The turn's time left, counted by the server (the page counts down from it, and
    # stops while the sale is paused): never the browser's clock against a deadline.
    return JsonResponse(
        {
            "admitted": True,
            "admission_token": token,
            "expires_ms": place.expires_ms,
            "left_ms": place.left_ms,
            "paused": place.paused,
        }
    )


@require_POST
@never_cache
def shopper_proof(request: HttpRequest, sale_id: int) -> JsonResponse:
    """POST /sales/<id>/shopper.json (CSRF; form fields challenge, nonce, and a shopper
    check's own): the page's answer to the sale's proof-of-work challenge. A good
    answer sets the shopper cookie, carrying the bits it cost (waitingroom/shopper.py).
    Only for a sale that may still sell, as the pages' cookies."""
    if sale_shopper_state(sale_id=sale_id) not in _MINTING_STATES:
        detail = f"Sale {sale_id} does not exist or no longer sells: it gives no shopper identity."
        return JsonResponse({"status": "not_found", "detail": detail}, status=404)
    response = JsonResponse({})
    try:
        _, bits = shopper_mint(
            request,
            response,
            sale_id=sale_id,
            challenge=request.POST.get("challenge", ""),
            nonce=request.POST.get("nonce", ""),
        )
    except ProofRefused as refused:
        return JsonResponse({"status": "proof_invalid", "detail": refused.detail}, status=400)
    except ShopperCheckFailed as failed:
        return JsonResponse({"status": "check_failed", "detail": failed.detail}, status=403)
    except ServiceUnavailable:
        detail = "We cannot check your browser this second: try again in a moment."
        return JsonResponse({"status": "unavailable", "detail": detail}, status=503)
    response.content = json.dumps({"status": "proven", "bits": bits}).encode()
    return response


@require_GET
@never_cache
def receipt_page(request: HttpRequest, sale_id: int, order_id: str) -> HttpResponse:
    """GET /sales/<id>/orders/<order id>/: one order's receipt, for its shopper (the
    cookie that bought it) or anyone holding its signed link (?k=, which the page
    shows so that it can be kept). Anyone else gets 404, as for an order that
    does not exist: a receipt never says whose it is not."""
    order_id = str(order_id)
    signed = receipt_signature_valid(sale_id=sale_id, order_id=order_id, signature=request.GET.get("k", ""))
    try:
        receipt = receipt_get(sale_id=sale_id, order_id=order_id)
    except ServiceUnavailable:
        return render(request, "waitingroom/receipt.html", {"unavailable": True}, status=503)
    if receipt is None:
        raise Http404("No such order")
    if not signed and _cookie_shopper(request) != receipt.shopper:
        raise Http404("No such order")
    context = {
        "receipt": receipt,
        "sale": sale_showcase(sale_id=sale_id),
        "link": request.build_absolute_uri(receipt_url(sale_id=sale_id, order_id=order_id)),
    }
    return render(request, "waitingroom/receipt.html", context)
