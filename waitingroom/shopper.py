"""The hosted pages' shopper: every page a shopper opens makes sure the browser
holds a signed fg_shopper cookie, which the buy API then trusts (the cookie's
format and its check: orders/buy/identity.py)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from orders.buy import identity


def shopper_ensure(request: HttpRequest, response: HttpResponse) -> str:
    """The page's shopper id: the one in a valid fg_shopper cookie, or a new one
    whose cookie is set on `response`. A tampered cookie is replaced, not kept
    (the buy API refuses it with 401 shopper_invalid)."""
    value = request.COOKIES.get(identity.SHOPPER_COOKIE)
    if value:
        try:
            return identity.shopper_cookie_verify(value)
        except identity.ShopperRefused:
            pass
    shopper_id = identity.shopper_id_new()
    response.set_cookie(
        identity.SHOPPER_COOKIE,
        identity.shopper_cookie_sign(shopper_id),
        max_age=settings.SHOPPER_COOKIE_MAX_AGE,
        httponly=True,  # the page's script never needs it: the browser sends it with each buy
        # Lax: sent when a shopper follows a link to the sale, never with another
        # site's POST, which is what keeps other sites from buying in the shopper's name.
        samesite="Lax",
        secure=settings.SHOPPER_COOKIE_SECURE,
    )
    return shopper_id
