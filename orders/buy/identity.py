"""Who the shopper is, in a form the shopper cannot forge: the buy path's side.

The per-shopper limit, the place in the waiting room's line and the idempotency
keys all hang on the shopper's id, so the id must come from something the
shopper cannot make up. A buy request proves it one of two ways:

  fg_shopper cookie   the hosted pages' shopper (Flux-Gate's own pages): a random
                      id, "s_" + 22 characters, and the proof of work its browser
                      did to get it ("~" + bits; none: 0), signed by Flux-Gate
                      (django.core.signing.Signer, salt "flux.shopper"); set
                      HttpOnly, SameSite=Lax, Secure in production, by the pages
                      once the browser solved the sale's challenge
                      (waitingroom/shopper.py), never by the buy API. A sale that
                      asks more bits than the cookie carries refuses it
                      (proof_required) until the page solves its challenge.
  X-Shopper-Token     a shop calling the buy API from its own backend: it signs its
                      shopper's reference with its merchant's storefront key
                      (sales/storefront.py makes them)

                          <key id>.<shopper ref>.<expires>.<signature>

                      expires: unix seconds; signature: lowercase hex
                      HMAC-SHA256(secret, "<key id>.<shopper ref>.<expires>").
                      The shopper is "m<merchant id>:<shopper ref>": one shop's
                      "alice" is not another's, and buy.lua refuses the token on a
                      sale of another merchant.

A body user_id names the shopper only in demo mode (FLUX_DEMO_MODE), checked by
the edge (edge.py), which also decides what a request with no proof gets.

Storefront keys are in PostgreSQL and mirrored into one Redis hash (sales/keys.py,
storefront_keys_key); the buy path reads the mirror, never the ORM. Each process
keeps what it read for STOREFRONT_KEY_CACHE_SECONDS, so a revoked key still
passes in a process that read it for at most that long, and a buy with a token
costs no Redis round trip beyond buy.lua's own except the first of each key per
process and period.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.http.cookie import parse_cookie

from orders.buy.steps import Read, Steps, run_reads
from sales import keys

SHOPPER_COOKIE = "fg_shopper"
SHOPPER_COOKIE_SALT = "flux.shopper"
SHOPPER_TOKEN_META = "HTTP_X_SHOPPER_TOKEN"  # the X-Shopper-Token header in a WSGI environ

# The whole token in one match: the key id; the shop's own shopper reference (base64url
# and dots: hash or encode anything else), which may hold dots since neither the expiry
# (unix seconds: [0-9], as str.isdigit would take "²") nor the signature can.
TOKEN = re.compile(r"(fgk_[0-9a-f]{16})\.([A-Za-z0-9._-]{1,64})\.([0-9]{1,12})\.([0-9a-f]{64})\Z")
MAX_TOKEN_LENGTH = 200  # a key id, a reference, an expiry and a signature fit in 160

TOKEN_FORMAT = "<key id>.<shopper ref>.<expires>.<hex HMAC-SHA256>"

Meta = Mapping[str, Any]  # a WSGI environ, or Django's request.META


@dataclass(frozen=True, slots=True)
class Shopper:
    id: str  # what the limit, the queue and the idempotency keys are bound to
    merchant_id: int | None = None  # a storefront's shopper: the merchant whose key signed the token
    # A hosted pages' shopper (the cookie): the proof of work it was minted with, in bits.
    # None for a storefront's shopper and demo mode's body user_id, which are not counted
    # per client address and do no proof of work (buy.lua).
    proof_bits: int | None = None


class ShopperRefused(Exception):
    """The request names a shopper in a way that does not hold (answered 401)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# --- the hosted pages' cookie ------------------------------------------------------------


@lru_cache(maxsize=1)
def _cookie_signer() -> Signer:
    """One Signer per process: it reads SECRET_KEY and its fallbacks when built."""
    return Signer(salt=SHOPPER_COOKIE_SALT)


def shopper_id_new() -> str:
    """A new hosted-pages shopper: 128 random bits nobody can guess or choose."""
    return "s_" + secrets.token_urlsafe(16)


def shopper_cookie_sign(shopper_id: str, proof_bits: int = 0) -> str:
    """The fg_shopper cookie's value for a shopper id whose browser did `proof_bits`
    of proof of work (the pages set it)."""
    return _cookie_signer().sign(f"{shopper_id}~{proof_bits}" if proof_bits else shopper_id)


def shopper_cookie_read(value: str) -> tuple[str, int]:
    """(shopper id, proof bits) of a fg_shopper cookie; ShopperRefused if it was not
    signed here."""
    try:
        signed = _cookie_signer().unsign(value)
    except BadSignature:
        raise ShopperRefused("The shopper cookie is not valid: open the sale's page again.") from None
    shopper_id, _, bits = signed.partition("~")
    return shopper_id, int(bits) if bits else 0


def shopper_cookie_verify(value: str) -> str:
    """The shopper id in a fg_shopper cookie; ShopperRefused if it was not signed here."""
    return shopper_cookie_read(value)[0]


def shopper_of_cookie(value: str | None) -> str | None:
    """The shopper of a fg_shopper cookie's value; None when there is none or it was
    tampered with (for pages and sockets, which then treat the visitor as new)."""
    found = cookie_shopper(value)
    return found[0] if found else None


def cookie_shopper(value: str | None) -> tuple[str, int] | None:
    """shopper_cookie_read, or None when there is no cookie or it was tampered with."""
    if not value:
        return None
    try:
        return shopper_cookie_read(value)
    except ShopperRefused:
        return None


# --- a storefront's shopper token --------------------------------------------------------

_KEY_LOOKUP = "return redis.call('HGET', KEYS[1], ARGV[1])"
# Per process: key id -> (kept until, monotonic s; (merchant id, secret), or None for an
# id the mirror does not hold). Unknown ids are remembered too, so that a flood of
# made-up tokens costs no Redis round trip each; bounded, since anyone can send ids.
_storefront_keys: dict[str, tuple[float, tuple[int, bytes] | None]] = {}
_MAX_CACHED_KEYS = 4096


def storefront_key_lookup(key_id: str) -> Steps[tuple[int, bytes] | None]:
    """(merchant id, secret) of a storefront key, from this process's cache or the
    Redis mirror (a step, orders/buy/steps.py); None when there is no such key
    (never made, or revoked)."""
    now = time.monotonic()
    cached = _storefront_keys.get(key_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    raw = yield Read("storefront-key", _KEY_LOOKUP, (keys.storefront_keys_key(),), (key_id,))
    found = None
    if raw:
        merchant_id, secret = raw.decode().split("|", 1)
        found = (int(merchant_id), secret.encode())
    if len(_storefront_keys) >= _MAX_CACHED_KEYS:
        _storefront_keys.clear()
    _storefront_keys[key_id] = (now + settings.STOREFRONT_KEY_CACHE_SECONDS, found)
    return found


def forget_storefront_keys() -> None:
    """Tests: a process that has read no key yet."""
    _storefront_keys.clear()


def shopper_token_sign(*, key_id: str, secret: str, shopper_ref: str, expires: int) -> str:
    """An X-Shopper-Token, as a shop's backend makes one (README shows it in shell)."""
    signed = f"{key_id}.{shopper_ref}.{expires}"
    signature = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
    return f"{signed}.{signature}"


def shopper_token_verify(token: str, *, now: float | None = None) -> Shopper:
    """The storefront shopper an X-Shopper-Token proves; ShopperRefused otherwise (blocking)."""
    return run_reads(shopper_token_verify_steps(token, now=now))


def shopper_token_verify_steps(token: str, *, now: float | None = None) -> Steps[Shopper]:
    """shopper_token_verify as steps. The cheap checks come first: a malformed or
    expired token costs no key lookup."""
    parsed = TOKEN.match(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if parsed is None:
        raise ShopperRefused(f"X-Shopper-Token is malformed: send {TOKEN_FORMAT}.")
    key_id, shopper_ref, expires, signature = parsed.groups()
    now = time.time() if now is None else now
    if int(expires) <= now:
        raise ShopperRefused("X-Shopper-Token has expired.")
    if int(expires) > now + settings.SHOPPER_TOKEN_MAX_SECONDS:
        # A token that lives for ever is a password a shopper can share or lose.
        raise ShopperRefused(
            f"X-Shopper-Token expires too late: at most {settings.SHOPPER_TOKEN_MAX_SECONDS} s ahead."
        )
    key = yield from storefront_key_lookup(key_id)
    if key is None:
        raise ShopperRefused("X-Shopper-Token: no such storefront key (unknown or revoked).")
    merchant_id, secret = key
    mac = _keyed_hmac(secret).copy()  # the key's padding and first blocks, hashed once per key
    mac.update(token[: -len(signature) - 1].encode())
    if not hmac.compare_digest(mac.hexdigest(), signature):
        raise ShopperRefused("X-Shopper-Token: the signature does not match its storefront key.")
    return Shopper(f"m{merchant_id}:{shopper_ref}", merchant_id)


@lru_cache(maxsize=_MAX_CACHED_KEYS)
def _keyed_hmac(secret: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 of `secret` that has hashed nothing yet: each token's check copies
    it (half the cost of a new one, on the hot path). Never updated itself."""
    return hmac.new(secret, digestmod=hashlib.sha256)


# --- one request -------------------------------------------------------------------------


def shopper_identify(meta: Meta) -> Shopper | None:
    """shopper_identify_steps, blocking."""
    return run_reads(shopper_identify_steps(meta))


def offers_proof(meta: Meta) -> bool:
    """Whether the request offers any proof of its shopper (a token, or a fg_shopper
    cookie); when it does not, shopper_identify_steps is None without a step."""
    if meta.get(SHOPPER_TOKEN_META):
        return True
    cookies = meta.get("HTTP_COOKIE")
    return bool(cookies) and SHOPPER_COOKIE in cookies


def shopper_identify_steps(meta: Meta) -> Steps[Shopper | None]:
    """The shopper a request proves, or None when it offers no proof at all.

    A storefront token wins over a cookie (a shop's backend sends the one it
    means). A proof that does not hold raises ShopperRefused: it is never
    ignored in favour of the next one. May raise redis.RedisError (key lookup).
    """
    token = meta.get(SHOPPER_TOKEN_META)
    if token:
        return (yield from shopper_token_verify_steps(token))
    cookies = meta.get("HTTP_COOKIE")
    # Most buy requests of an API client carry no cookie: one substring test then.
    if cookies and SHOPPER_COOKIE in cookies:
        value = parse_cookie(cookies).get(SHOPPER_COOKIE)  # Django's own parser, as request.COOKIES
        if value:
            shopper_id, bits = shopper_cookie_read(value)
            return Shopper(shopper_id, proof_bits=bits)
    return None


def client_address(meta: Meta) -> str:
    """The client's address, for caps per address (WAITING_ROOM_JOINS_PER_ADDRESS).

    Behind the product's nginx (bin/proxy) X-Forwarded-For is set to the peer's
    address, replacing anything the client sent, and granian listens only on
    Unix sockets nginx reaches; a direct connection (tests) has REMOTE_ADDR."""
    return meta.get("HTTP_X_FORWARDED_FOR") or meta.get("REMOTE_ADDR") or ""


def address_group(address: str) -> str:
    """What a limit per client address counts: the address itself, an IPv6 one's /64
    (one household or one hosting customer gets a whole /64, and picks from it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def client_address_group(meta: Meta) -> str:
    """address_group of the request's client address: what the caps per address count."""
    return address_group(client_address(meta))
