"""The buy endpoint, POST /api/v1/sales/{id}/buy, and the seed's POST /order.

The edge parses and checks the request in the cheapest order (size, shopper,
key, body), calls orders.buy.decision.buy() and turns its outcome into an HTTP
answer. The shopper is who the request proves (orders/buy/identity.py: the
hosted pages' cookie or a storefront's token); only in demo mode may the body's
user_id name one instead. The body is read by hand rather than by a ninja
Schema parameter so that the order of those checks, and their status codes,
are ours (413 before 415 before 401 before 400 before 422).

The edge works on a WSGI environ (Django's ``request.META`` is one) and returns
an ``Answer``, so that the two servers of the same routes share it: the ninja
routes (``buy_endpoint``, ``order_endpoint``: the OpenAPI schema, Django's test
client) and the fast lane in front of Django (orders/buy/lane.py), which serves
them in production.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from pydantic import ValidationError

from infra.errors import HTTP_STATUS, fields_of, fields_summary
from orders.buy import decision, identity
from orders.buy.outcomes import Outcome
from orders.buy.schemas import BuyIn, BuyOut, OrderIn
from sales.keys import DEMO_SKU_OWNER

# Every status the buy routes answer: the outcomes' own, 400 (key), 413 (size), 415 (a body
# that is not JSON), and 429 (rate_limited to a client asking for JSON).
RESPONSES = {
    code: BuyOut for code in sorted({outcome.http_status for outcome in Outcome} | {400, 413, 415, 429})
}
BUY_DOC = """Buy `quantity` units for the shopper the request proves: the hosted pages' `fg_shopper`
cookie, or an `X-Shopper-Token` signed with the merchant's storefront key (README, "Who the shopper is");
a body `user_id` names the shopper only in demo mode. Send a unique `Idempotency-Key` (or the seed's
`x-idempotency-key`) per purchase intent, and the same key when retrying it: a key the shopper already
decided gets its original outcome back. Outcomes (`status` in the body): 200 `accepted` (with `order_id`);
202 `accepted_pending` (accepted, hand-off to Kafka still in progress; the order will be persisted);
302 `rate_limited` to the waiting room (`Location`, `Retry-After`): the bucket is empty, or shoppers
are waiting there (then only their admissions buy); a client that sends `Accept: application/json` (a page's fetch(),
which would follow a 302 silently) gets 429 `rate_limited` instead, with `waiting_room` in the body. A shopper admitted from the waiting room sends its
`Admission-Token` header (single use, short-lived): it skips the bucket and the queue; 403
`admission_invalid` when it is spent, expired, or not this shopper's for this sale. 409 `sold_out`,
`not_started`, `paused`, `ended`, `limit_reached`, `address_limit_reached` (the hosted pages' shoppers
behind this client address bought the sale's `units_per_address`); 403 `proof_required` (the cookie carries
less proof of work than the sale asks: the page solves the sale's challenge); 400 missing or malformed key;
422 invalid body or `idempotency_key_reused`; 401 `shopper_required` (no proof of the shopper) or
`shopper_invalid` (a tampered cookie; a forged, expired or revoked token, or another merchant's); 404 unknown sale;
413 body too large; 415 a body that is not `application/json`; 503 `unavailable` (`Retry-After`)."""


def _header(name: str, description: str, *, required: bool = False, pattern: str | None = None) -> dict:
    schema = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return {"in": "header", "name": name, "required": required, "description": description, "schema": schema}


# The buy route's body and headers, as the edge reads them by hand (not through ninja's parameters).
BUY_REQUEST_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": BuyIn.model_json_schema()}}},
    "parameters": [
        _header(
            "Idempotency-Key",
            "One per purchase intent, the same when retrying it (the seed's x-idempotency-key works too).",
            required=True,
            pattern="^" + decision.IDEMPOTENCY_KEY_PATTERN.pattern.removesuffix("\\Z") + "$",
        ),
        _header("X-Shopper-Token", "<key id>.<shopper ref>.<expires>.<hex HMAC-SHA256>, signed by the shop."),
        _header("Admission-Token", "The waiting room's admission (single use, short-lived)."),
    ],
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What the buy edge answers, whichever server sends it."""

    status: int
    body: bytes  # JSON
    retry_after: int | None = None
    location: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        headers = [("Content-Type", "application/json")]
        if self.retry_after is not None:
            headers.append(("Retry-After", str(self.retry_after)))
        if self.location is not None:
            headers.append(("Location", self.location))
        return headers


Meta = Mapping[str, Any]  # a WSGI environ, or Django's request.META
ReadBody = Callable[[int], bytes]  # reads the body, given its announced length


def _problem(code: str, detail: str, fields: dict | None = None) -> Answer:
    """A refusal before any decision (bad request): its status from the one table."""
    return Answer(
        HTTP_STATUS[code], json.dumps({"status": code, "detail": detail, "fields": fields or {}}).encode()
    )


def _content_length(meta: Meta) -> int | None:
    """The announced body length, or None when it is over the limit or not a length."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if 0 <= length <= settings.BUY_MAX_BODY_BYTES else None


def _too_large() -> Answer:
    return _problem("too_large", f"The body is over {settings.BUY_MAX_BODY_BYTES} bytes.")


def _not_json(meta: Meta) -> Answer | None:
    """415 unless the body is declared JSON (Content-Type: application/json, any parameters).
    A page of another site can POST a form or text/plain body without asking the browser
    first; only JSON needs the CORS preflight no other site gets through."""
    content_type = meta.get("CONTENT_TYPE") or ""
    if content_type.partition(";")[0].strip().lower() == "application/json":
        return None
    named = f"this request's is {content_type!r}" if content_type else "this request names none"
    return _problem(
        "unsupported_media_type",
        f"Send the body as JSON with Content-Type: application/json ({named}).",
        {"Content-Type": ["Must be application/json."]},
    )


def _idempotency_key(meta: Meta) -> str | None:
    return meta.get("HTTP_IDEMPOTENCY_KEY") or meta.get("HTTP_X_IDEMPOTENCY_KEY")


def _key_invalid(header: str) -> Answer:
    return _problem("idempotency_key_invalid", f"{header}: use 1-128 letters, digits, '.', '_', ':' or '-'.")


def _admission_token(meta: Meta) -> str | None:
    """The Admission-Token header of a shopper admitted from the waiting room."""
    return meta.get("HTTP_ADMISSION_TOKEN") or None


def _redis_down() -> Answer:
    return _problem("unavailable", "The stock service (Redis) cannot take orders right now.")


def _shopper_refusal(outcome: Outcome, detail: str, sale_id: int) -> Answer:
    body = {"status": outcome.value, "detail": detail, "sale_id": sale_id}
    return Answer(HTTP_STATUS[outcome], json.dumps(body).encode())


Proof = identity.Shopper | identity.ShopperRefused | None
_NOT_READ: Any = object()  # _shopper's default: read the proof from the request


def _proof(meta: Meta) -> decision.Steps[Proof]:
    """What the request proves about its shopper: who, a refusal, or nothing.
    Raises redis.RedisError for a storefront key this process has not read yet."""
    try:
        return (yield from identity.shopper_identify_steps(meta))
    except identity.ShopperRefused as refused:
        return refused


def _shopper(
    meta: Meta, sale_id: int, proof: Proof = _NOT_READ
) -> decision.Steps[identity.Shopper | Answer | None]:
    """The shopper the request proves; None in demo mode when it proves none (the
    body's user_id names the shopper then); else the refusal to answer."""
    if proof is _NOT_READ:
        try:
            proof = yield from _proof(meta)
        except redis.RedisError:
            return _redis_down()
    if isinstance(proof, identity.ShopperRefused):
        return _shopper_refusal(Outcome.SHOPPER_INVALID, proof.detail, sale_id)
    if proof is None:
        return _shopper_without_proof(sale_id)
    return proof


def _shopper_without_proof(sale_id: int) -> Answer | None:
    """A request that proves no shopper: None in demo mode (the body names one), else 401."""
    if settings.FLUX_DEMO_MODE:
        return None
    return _shopper_refusal(Outcome.SHOPPER_REQUIRED, Outcome.SHOPPER_REQUIRED.detail, sale_id)


def _buyer(shopper: identity.Shopper | None, user_id: str | None, field: str) -> identity.Shopper | Answer:
    """Who buys: the proven shopper, or in demo mode the body's user_id.

    A body naming someone other than the proven shopper is refused (422), not
    ignored: it is a client's bug or an attempt, and buying for the proven
    shopper instead would answer for a shopper the client did not mean."""
    if shopper is None:
        if user_id is None:
            missing = "Field required"  # pydantic's words, as when the field was required
            return _problem("invalid", f"Invalid request: {field}: {missing}", {field: [missing]})
        return identity.Shopper(user_id)
    if user_id is not None and user_id != shopper.id:
        reason = f"Not this request's shopper ({shopper.id}): omit {field}, or send that id."
        return _problem("invalid", f"Invalid request: {field}: {reason}", {field: [reason]})
    return shopper


def _counted_address(meta: Meta, buyer: identity.Shopper) -> str:
    """The client address a hosted pages' shopper's units count against (the sale's
    units_per_address); "" for a storefront's shopper or demo mode's, who are not
    counted per address (a shop's backend calls from one address for all of them)."""
    return identity.client_address_group(meta) if buyer.proof_bits is not None else ""


def _shoppers_key(idempotency_key: str, shopper: identity.Shopper) -> str:
    """The idempotency key as recorded: the shopper's own. Another shopper who
    sends the same key (learnt or guessed) gets a decision of their own, never
    this shopper's order, and cannot use the key up. '|' is in no key."""
    return f"{idempotency_key}|{shopper.id}"


def _wants_json(meta: Meta) -> bool:
    """Whether the client asked for JSON (Accept: application/json): a page's fetch()."""
    return "application/json" in (meta.get("HTTP_ACCEPT") or "")


def _outcome_answer(result: decision.BuyResult, sale_id: int, meta: Meta) -> Answer:
    status = HTTP_STATUS[result.outcome]
    if result.outcome != Outcome.RATE_LIMITED:
        return Answer(status, result.body, result.retry_after)
    waiting_room = f"/waiting-room/{sale_id}/"
    if _wants_json(meta):
        # Content negotiation: a browser's fetch() follows a 302 silently and loses the
        # answer, so a client that asks for JSON gets 429 with the waiting room's
        # address in the body; the seed's clients (no Accept: application/json) keep the 302.
        body = json.dumps({**json.loads(result.body), "waiting_room": waiting_room}).encode()
        return Answer(429, body, result.retry_after, waiting_room)
    return Answer(status, result.body, result.retry_after, waiting_room)


def _decided(
    meta: Meta, sale_id: int, buyer: identity.Shopper, key: str, quantity: int
) -> decision.Steps[Answer]:
    """The tail both buy routes share: the decision for the proven buyer, and its answer."""
    result = yield from decision.buy_steps(
        sale_id=sale_id,
        user_id=buyer.id,
        quantity=quantity,
        idempotency_key=_shoppers_key(key, buyer),
        admission_token=_admission_token(meta),
        merchant_id=buyer.merchant_id,
        client_address=_counted_address(meta, buyer),
        proof_bits=buyer.proof_bits,
    )
    return _outcome_answer(result, sale_id, meta)


def buy_answer(sale_id: int, meta: Meta, read_body: ReadBody) -> Answer:
    """POST /api/v1/sales/{sale_id}/buy, blocking (the WSGI lane, Django)."""
    return decision.run_sync(buy_steps(sale_id, meta, read_body))


def order_answer(meta: Meta, read_body: ReadBody) -> Answer:
    """POST /order, blocking (the WSGI lane, Django)."""
    return decision.run_sync(order_steps(meta, read_body))


def buy_steps(sale_id: int, meta: Meta, read_body: ReadBody) -> decision.Steps[Answer]:
    """POST /api/v1/sales/{sale_id}/buy, as steps (decision.py) for either driver."""
    length = _content_length(meta)
    if length is None:
        return _too_large()
    refusal = _not_json(meta)
    if refusal is not None:
        return refusal
    if identity.offers_proof(meta):
        shopper = yield from _shopper(meta, sale_id)
    else:  # no cookie, no token (the seed's clients, the herd in demo mode): no steps to run
        shopper = _shopper_without_proof(sale_id)
    if isinstance(shopper, Answer):
        return shopper
    key = _idempotency_key(meta)
    if not key:
        return _problem("idempotency_key_missing", "Send an Idempotency-Key header (one per purchase).")
    if not decision.IDEMPOTENCY_KEY_PATTERN.match(key):
        return _key_invalid("Idempotency-Key")
    try:
        payload = BuyIn.model_validate_json(read_body(length))
    except ValidationError as error:
        fields = fields_of(error.errors())
        return _problem("invalid", f"Invalid request: {fields_summary(fields)}", fields)
    buyer = _buyer(shopper, payload.user_id, "user_id")
    if isinstance(buyer, Answer):
        return buyer
    return (yield from _decided(meta, sale_id, buyer, key, payload.quantity))


def order_steps(meta: Meta, read_body: ReadBody) -> decision.Steps[Answer]:
    """The seed's POST /order {productId, userId}: productId is the SKU of an open
    sale of the merchant whose storefront token proves the shopper, or else of the
    demo merchant (SKUs are each merchant's own: another's is never reached).
    The seed's idempotency header is optional here, as it was there."""
    length = _content_length(meta)
    if length is None:
        return _too_large()
    refusal = _not_json(meta)
    if refusal is not None:
        return refusal
    key = _idempotency_key(meta) or str(uuid.uuid4())
    if not decision.IDEMPOTENCY_KEY_PATTERN.match(key):
        return _key_invalid("x-idempotency-key")
    try:
        payload = OrderIn.model_validate_json(read_body(length))
        BuyIn(user_id=payload.userId)
    except ValidationError as error:
        return _problem("invalid", "Invalid request body.", fields_of(error.errors()))
    try:
        proof = yield from _proof(meta)
        owner = proof.merchant_id if isinstance(proof, identity.Shopper) and proof.merchant_id else None
        sale_id = yield from decision.sale_id_for_sku(owner or DEMO_SKU_OWNER, payload.productId)
    except redis.RedisError:
        return _redis_down()
    if sale_id is None:
        return _problem("not_found", f"No open sale of product {payload.productId!r}.")
    shopper = yield from _shopper(
        meta, sale_id, proof
    )  # after the lookup: its refusal names the sale, as on /buy
    if isinstance(shopper, Answer):
        return shopper
    buyer = _buyer(shopper, payload.userId, "userId")
    if isinstance(buyer, Answer):
        return buyer
    return (yield from _decided(meta, sale_id, buyer, key, 1))


# --- for the ninja routes (orders/buy/routes.py) --------------------------------------


def _response(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers():
        response[name] = value
    return response


def buy_endpoint(request: HttpRequest, sale_id: int) -> HttpResponse:
    return _response(buy_answer(sale_id, request.META, lambda _length: request.body))


def order_endpoint(request: HttpRequest) -> HttpResponse:
    return _response(order_answer(request.META, lambda _length: request.body))
