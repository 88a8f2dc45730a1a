"""What a sale's text and times may hold, defined once for the model (Django
validators: the admin, services, commands) and the API's schemas (pydantic
types, which the OpenAPI schema documents).

- Text: no control characters. PostgreSQL cannot store NUL (it answered a 500),
  and C0/C1 controls or bidi overrides in a product name or shopper id only serve
  to make a page or a log say something it does not. Nor only blanks.
- Moments: time-zone aware and, once in UTC, between 2000 and 2100. Year 9999 at
  -14:00 is year 10000 in UTC: PostgreSQL stored it, and Python could not read it
  back (every page listing the sale answered 500). Redis keeps times as epoch ms
  with 0 for "none", so 1970 cannot be a bound either.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

# C0 controls, DEL, C1 controls, the bidi embeddings/overrides/isolates and marks, BOM.
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
# The same rule as a JSON-schema pattern (pydantic checks it, OpenAPI shows it).
TEXT_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def text_problem(value: str) -> str | None:
    """What is wrong with a piece of text, or None."""
    if _CONTROL.search(value):
        return "Control characters (NUL, line breaks, bidi overrides...) are not allowed."
    if value and not value.strip():
        return "Blank text is not allowed."
    return None


def moment_problem(value: datetime) -> str | None:
    """What is wrong with a sale's start or end, or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "Give a time zone (e.g. 2026-12-01T10:00:00Z)."
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc < LATEST:
        return f"Must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)."
    return None


# A product picture: an https address, or a path on this site ("/media/phone.jpg").
IMAGE_URL_PATTERN = r"^(https://[^\s<>\"']+|/[^/\s<>\"'][^\s<>\"']*)?$"  # empty: no picture
IMAGE_URL_PROBLEM = "Give an https:// address or a path on this site starting with /."


# --- Django validators (models) --------------------------------------------------------


def validate_text(value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_text")


def validate_image_url(value: str) -> None:
    if not re.fullmatch(IMAGE_URL_PATTERN, value):
        raise ValidationError(IMAGE_URL_PROBLEM, code="invalid_image_url")


def validate_moment(value: datetime) -> None:
    problem = moment_problem(value)
    if problem:
        raise ValidationError(problem, code="out_of_range")


# --- pydantic types (schemas) ------------------------------------------------------------


def _checked_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _checked_moment(value: datetime) -> datetime:
    problem = moment_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def Text(max_length: int, *, pattern: str | None = None) -> object:
    """A str of 1..max_length characters without control characters (and matching `pattern`)."""
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_length, pattern=pattern or TEXT_PATTERN),
        AfterValidator(_checked_text),
    ]


Moment = Annotated[
    AwareDatetime,
    AfterValidator(_checked_moment),
    Field(description="ISO 8601 with a time zone, 2000-2100 (UTC)."),
]


def StrictInt(ge: int, le: int) -> object:
    """An integer: "1", 1.0 and true are refused, not taken for 1."""
    return Annotated[int, Field(strict=True, ge=ge, le=le)]
