"""The hosted pages' shopper: the signed fg_shopper cookie the buy API trusts (its
format and its check: orders/buy/identity.py), and what a browser does to get one.

A shopper identity costs a proof of work (issue 22): a sale whose proof_bits is
above 0 hands its pages a challenge (waitingroom/proof.py) instead of a cookie; the
page's script solves it and posts the answer, and only then is the cookie set,
carrying the bits it cost. A challenge is spent once: one solved challenge is one
identity, never three hundred. A sale that asks no proof sets the cookie with the
page, as before.

A CAPTCHA provider can be put in front of the cookie too (SHOPPER_CHECK, off by
default; README "What a bot faces"): a function that gets the request (the
provider's own fields come with the proof, posted by the page) and says whether it
passed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from infra.clients import redis_client
from infra.errors import ServiceUnavailable
from orders.buy import identity
from sales import keys
from waitingroom.proof import CHALLENGE_SECONDS, ProofRefused, challenge_check

# A shopper check (SHOPPER_CHECK): (request, sale id) -> None when the visitor passed,
# else the words of the refusal.
ShopperCheck = Callable[[HttpRequest, int], str | None]


def shopper_ensure(request: HttpRequest, response: HttpResponse) -> str:
    """The page's shopper id: the one in a valid fg_shopper cookie, or a new one
    whose cookie (no proof of work) is set on `response`. Only for a sale that asks
    no proof. A tampered cookie is replaced, not kept (the buy API refuses it with
    401 shopper_invalid)."""
    found = identity.cookie_shopper(request.COOKIES.get(identity.SHOPPER_COOKIE))
    if found is not None:
        return found[0]
    shopper_id = identity.shopper_id_new()
    _set_cookie(response, shopper_id, 0)
    return shopper_id


def shopper_proven_bits(request: HttpRequest) -> int | None:
    """The proof of work the request's cookie carries; None without a valid cookie."""
    found = identity.cookie_shopper(request.COOKIES.get(identity.SHOPPER_COOKIE))
    return found[1] if found else None


def shopper_mint(
    request: HttpRequest, response: HttpResponse, *, sale_id: int, challenge: str, nonce: str
) -> tuple[str, int]:
    """A browser's answer to a sale's challenge: check the work, spend the challenge,
    then set the cookie on `response`, carrying the bits. A browser that already holds
    a shopper keeps its id (its limits and its place stay its own) with the new bits.
    Returns (shopper id, bits). Raises ProofRefused (what is wrong), ShopperCheckFailed
    (SHOPPER_CHECK said no), ServiceUnavailable (Redis)."""
    proven = challenge_check(challenge, nonce, sale_id=sale_id)
    check = _shopper_check()
    refusal = check(request, sale_id) if check else None
    if refusal is not None:
        raise ShopperCheckFailed(refusal)
    spent = keys.proof_spent_key(sale_id, proven.id)
    try:
        first = redis_client().set(spent, 1, nx=True, ex=CHALLENGE_SECONDS + 60)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    if not first:
        raise ProofRefused("This challenge was answered already: reload the page for a new one.")
    found = identity.cookie_shopper(request.COOKIES.get(identity.SHOPPER_COOKIE))
    shopper_id = found[0] if found else identity.shopper_id_new()
    bits = max(proven.bits, found[1] if found else 0)
    _set_cookie(response, shopper_id, bits)
    return shopper_id, bits


class ShopperCheckFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@lru_cache(maxsize=1)
def _shopper_check() -> ShopperCheck | None:
    return import_string(settings.SHOPPER_CHECK) if settings.SHOPPER_CHECK else None


def forget_shopper_check() -> None:
    """Tests: read SHOPPER_CHECK again."""
    _shopper_check.cache_clear()


def _set_cookie(response: HttpResponse, shopper_id: str, bits: int) -> None:
    response.set_cookie(
        identity.SHOPPER_COOKIE,
        identity.shopper_cookie_sign(shopper_id, bits),
        max_age=settings.SHOPPER_COOKIE_MAX_AGE,
        httponly=True,  # the page's script never needs it: the browser sends it with each buy
        # Lax: sent when a shopper follows a link to the sale, never with another
        # site's POST, which is what keeps other sites from buying in the shopper's name.
        samesite="Lax",
        secure=settings.SHOPPER_COOKIE_SECURE,
    )
