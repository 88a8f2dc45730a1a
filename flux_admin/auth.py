"""Sign-in wiring: which address a sign-in attempt comes from (django-axes counts
failures per merchant and address, settings.AXES_*)."""

from __future__ import annotations

from django.http import HttpRequest

from orders.buy.identity import client_address


def sign_in_address(request: HttpRequest) -> str:
    """The address nginx saw (the same one the waiting room's cap counts)."""
    return client_address(request.META)
