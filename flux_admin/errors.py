"""The one application error type. Services raise it with a machine-readable
code; only the edges (API, admin, commands) turn it into an HTTP status or a
message."""

from __future__ import annotations


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
