"""A shopper check (SHOPPER_CHECK) for tests: what a CAPTCHA provider's verification
does, minus the provider. Passes a visitor whose form says captcha=solved."""

from __future__ import annotations

from django.http import HttpRequest


def captcha_solved(request: HttpRequest, sale_id: int) -> str | None:
    if request.POST.get("captcha") == "solved":
        return None
    return f"Solve the puzzle to shop sale {sale_id}."
