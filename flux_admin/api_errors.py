"""Shaping validation errors the same way on every API route."""

from __future__ import annotations

from collections.abc import Iterable


def fields_of(errors: Iterable[dict]) -> dict[str, list[str]]:
    """pydantic/ninja error list -> {"quantity": ["Input should be a valid integer"]}."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        location = [
            str(part) for part in error.get("loc", []) if part not in ("body", "payload", "query", "path")
        ]
        fields.setdefault(".".join(location) or "body", []).append(error.get("msg", "invalid"))
    return fields
