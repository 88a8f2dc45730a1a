"""The one application error type, and the one table of HTTP statuses.

Services raise ApplicationError with a machine-readable code; only the edges
(the APIs, the admin, commands) turn it into an HTTP status or a message. The
buy API's outcomes (orders/buy/outcomes.py) are codes of the same table.
"""

from __future__ import annotations

from collections.abc import Iterable

# Every machine-readable `status` the APIs answer with, and its HTTP status.
HTTP_STATUS: dict[str, int] = {
    # the buy API's outcomes
    "accepted": 200,
    "accepted_pending": 202,
    "rate_limited": 302,
    "sold_out": 409,
    "not_started": 409,
    "paused": 409,
    "ended": 409,
    "limit_reached": 409,
    "address_limit_reached": 409,
    # 403: the cookie is a credential that does not suffice here until the page solves
    # the sale's challenge (waitingroom/proof.py), whatever the sale does.
    "proof_required": 403,
    # 403, not 409: the admission token is a credential this request may not use
    # (forged, another shopper's or sale's, spent or expired), not a state of the sale;
    # the answer is the same whatever the sale does. The shopper rejoins the queue.
    "admission_invalid": 403,
    "idempotency_key_missing": 400,
    "idempotency_key_invalid": 400,
    "idempotency_key_reused": 422,
    "too_large": 413,
    "unsupported_media_type": 415,
    "shopper_required": 401,
    "shopper_invalid": 401,
    # any route
    "invalid": 422,
    "not_found": 404,
    "unauthorized": 401,
    "unavailable": 503,
    # the merchant API's refusals
    "invalid_transition": 409,
    "conflict": 409,
    "not_drained": 409,
}


def http_status(code: str) -> int:
    """The HTTP status of a code; 400 for a code the table does not know."""
    return HTTP_STATUS.get(code, 400)


class ApplicationError(Exception):
    """A refusal the caller can understand and act on.

    ``code`` is stable and machine-readable (``invalid_transition``,
    ``not_found``...); ``message`` is for people; ``fields`` maps a field name
    to what is wrong with it, for input errors.
    """

    def __init__(self, code: str, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


class ServiceUnavailable(ApplicationError):
    """A dependency (Redis, Kafka, PostgreSQL) cannot take the request now; retry later."""

    def __init__(self, message: str) -> None:
        super().__init__("unavailable", message)


def fields_of(errors: Iterable[dict]) -> dict[str, list[str]]:
    """pydantic/ninja error list -> {"quantity": ["Input should be a valid integer"]}."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        location = [
            str(part) for part in error.get("loc", []) if part not in ("body", "payload", "query", "path")
        ]
        fields.setdefault(".".join(location) or "body", []).append(error.get("msg", "invalid"))
    return fields


def fields_summary(fields: dict[str, list[str]]) -> str:
    """{"quantity": ["too small"]} -> "quantity: too small": what a 422's detail says."""
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
