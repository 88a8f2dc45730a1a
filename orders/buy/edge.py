"""The buy endpoint, POST /api/v1/sales/{id}/buy, and the seed's POST /order.

The edge parses and checks the request in the cheapest order (size, key, body),
calls orders.buy.decision.buy() and turns its outcome into an HTTP answer. The body is
read by hand rather than by a ninja Schema parameter so that the order of
those checks, and their status codes, are ours (413 before 400 before 422).

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
from orders.buy import decision
from orders.buy.outcomes import Outcome
from orders.buy.schemas import BuyIn, BuyOut, OrderIn

RESPONSES = {code: BuyOut for code in sorted({outcome.http_status for outcome in Outcome} | {400, 413})}
BUY_DOC = """Buy `quantity` units for `user_id`. Send a unique `Idempotency-Key` (or the seed's
`x-idempotency-key`) per purchase intent, and the same key when retrying it: a key already decided gets
its original outcome back. Outcomes (`status` in the body): 200 `accepted` (with `order_id`);
202 `accepted_pending` (accepted, hand-off to Kafka still in progress; the order will be persisted);
302 `rate_limited` to the waiting room (`Location`, `Retry-After`); 409 `sold_out`, `not_started`,
`paused`, `ended`, `limit_reached`; 400 missing or malformed key; 422 invalid body or
`idempotency_key_reused`; 404 unknown sale; 413 body too large; 503 `unavailable` (`Retry-After`)."""
BUY_REQUEST_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": BuyIn.model_json_schema()}}}
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


def _idempotency_key(meta: Meta) -> str | None:
    return meta.get("HTTP_IDEMPOTENCY_KEY") or meta.get("HTTP_X_IDEMPOTENCY_KEY")


def _outcome_answer(result: decision.BuyResult, sale_id: int) -> Answer:
    status = HTTP_STATUS[result.outcome]
    location = f"/waiting-room/{sale_id}/" if result.outcome == Outcome.RATE_LIMITED else None
    return Answer(status, result.body, result.retry_after, location)


def buy_answer(sale_id: int, meta: Meta, read_body: ReadBody) -> Answer:
    """POST /api/v1/sales/{sale_id}/buy."""
    length = _content_length(meta)
    if length is None:
        return _too_large()
    key = _idempotency_key(meta)
    if not key:
        return _problem("idempotency_key_missing", "Send an Idempotency-Key header (one per purchase).")
    if not decision.IDEMPOTENCY_KEY_PATTERN.match(key):
        return _problem(
            "idempotency_key_invalid",
            "Idempotency-Key: use 1-128 letters, digits, '.', '_', ':' or '-'.",
        )
    try:
        payload = BuyIn.model_validate_json(read_body(length))
    except ValidationError as error:
        fields = fields_of(error.errors())
        return _problem("invalid", f"Invalid request: {fields_summary(fields)}", fields)
    result = decision.buy(
        sale_id=sale_id, user_id=payload.user_id, quantity=payload.quantity, idempotency_key=key
    )
    return _outcome_answer(result, sale_id)


def order_answer(meta: Meta, read_body: ReadBody) -> Answer:
    """The seed's POST /order {productId, userId}: productId is the open sale's SKU.
    The seed's idempotency header is optional here, as it was there."""
    length = _content_length(meta)
    if length is None:
        return _too_large()
    key = _idempotency_key(meta) or str(uuid.uuid4())
    if not decision.IDEMPOTENCY_KEY_PATTERN.match(key):
        return _problem(
            "idempotency_key_invalid",
            "x-idempotency-key: use 1-128 letters, digits, '.', '_', ':' or '-'.",
        )
    try:
        payload = OrderIn.model_validate_json(read_body(length))
        BuyIn(user_id=payload.userId)
    except ValidationError as error:
        return _problem("invalid", "Invalid request body.", fields_of(error.errors()))
    try:
        sale_id = decision.sale_id_for_sku(payload.productId)
    except redis.RedisError:
        return _problem("unavailable", "The stock service (Redis) cannot take orders right now.")
    if sale_id is None:
        return _problem("not_found", f"No open sale of product {payload.productId!r}.")
    result = decision.buy(sale_id=sale_id, user_id=payload.userId, quantity=1, idempotency_key=key)
    return _outcome_answer(result, sale_id)


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
