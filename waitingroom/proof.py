"""Proof of work (hashcash) before the hosted pages mint a shopper identity.

A shopper identity is free to mint, so a bot could hold a thousand places in the
line. A challenge makes each one cost CPU in the browser: the page receives

    <sale id>.<bits>.<expires>.<id>:<signature>

(django.core.signing.Signer, salt PROOF_SALT; expires: unix seconds; id: 16 random
base64url characters; only [A-Za-z0-9._:-]) and its script (static/waitingroom/proof.js)
looks for a nonce, a decimal number "0", "1", ..., such that

    sha256("<challenge>:<nonce>")

starts with `bits` zero bits: about 2**bits hashes. Checking it costs one hash.
The challenge is signed, so the server keeps nothing until a proof comes back; it
is bound to one sale and lasts CHALLENGE_SECONDS. challenge_check does not make it
single use: the caller spends Challenge.id (in Redis) once it accepts a proof.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.signing import BadSignature, Signer

from sales.models import MAX_PROOF_BITS
from waitingroom import hashcash
from waitingroom.hashcash import work_done

PROOF_SALT = "flux.proof"
CHALLENGE_SECONDS = 600
# The sale's own bound (2**24 hashes: seconds on a phone, docs/BENCHMARKS.md): a wrong
# setting never hands out a challenge nobody will answer.
MAX_BITS = MAX_PROOF_BITS

MAX_CHALLENGE_LENGTH = 200  # one of a 20-digit sale id is 96 characters
# Digits only (ASCII: str.isdigit would take "²"); 16 digits are far more nonces than
# MAX_BITS needs, and the bound keeps the check one short hash.
NONCE = re.compile(r"[0-9]{1,16}\Z")
PAYLOAD = re.compile(r"([0-9]{1,20})\.([0-9]{1,2})\.([0-9]{1,12})\.([A-Za-z0-9_-]{16})\Z")


@dataclass(frozen=True, slots=True)
class Challenge:
    sale_id: int
    bits: int
    expires: int  # unix seconds
    id: str  # the random part: what single use is bound to


class ProofRefused(Exception):
    """The proof of work does not hold; `detail` says what to do about it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@lru_cache(maxsize=1)
def _signer() -> Signer:
    """One Signer per process: it reads SECRET_KEY and its fallbacks when built."""
    return Signer(salt=PROOF_SALT)


def challenge_new(*, sale_id: int, bits: int, now: float | None = None) -> str:
    """A signed challenge of `bits` for one sale, for the page to solve."""
    if not 0 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be 0 to {MAX_BITS}, not {bits}")
    if sale_id < 0:
        raise ValueError(f"sale_id must not be negative, not {sale_id}")
    expires = int(time.time() if now is None else now) + CHALLENGE_SECONDS
    return _signer().sign(f"{sale_id}.{bits}.{expires}.{secrets.token_urlsafe(12)}")


def challenge_check(challenge: str, nonce: str, *, sale_id: int, now: float | None = None) -> Challenge:
    """The challenge, if `nonce` proves enough work on it for this sale; else ProofRefused.

    The cheap checks come first, so a refused proof costs at most one HMAC; the hash
    of the work, last, only for a challenge signed here.
    """
    # ASCII first: a lone surrogate (which JSON's "\ud800" makes) cannot even be encoded for the HMAC.
    if len(challenge) > MAX_CHALLENGE_LENGTH or not challenge.isascii():
        raise ProofRefused(
            f"The proof's challenge is not one Flux-Gate gives (over {MAX_CHALLENGE_LENGTH} characters, "
            "or not ASCII): send the challenge the page was given, unchanged."
        )
    if not NONCE.match(nonce):
        raise ProofRefused(
            "The proof's nonce must be 1 to 16 digits (0-9): send the number the solver found."
        )
    try:
        payload = _signer().unsign(challenge)
    except BadSignature:
        raise ProofRefused(
            "The proof's challenge was not signed by Flux-Gate: open the sale's page again for a new one."
        ) from None
    fields = PAYLOAD.match(payload)
    if fields is None or int(fields[2]) > MAX_BITS:
        raise ProofRefused(
            "The proof's challenge is not in a form Flux-Gate makes: open the sale's page again."
        )
    found = Challenge(sale_id=int(fields[1]), bits=int(fields[2]), expires=int(fields[3]), id=fields[4])
    if found.sale_id != sale_id:
        raise ProofRefused(
            f"The proof's challenge is for sale {found.sale_id}, not sale {sale_id}: "
            "solve the challenge of this sale's page."
        )
    if (time.time() if now is None else now) >= found.expires:
        raise ProofRefused("The proof's challenge has expired: open the sale's page again for a new one.")
    if work_done(challenge, nonce) < found.bits:
        raise ProofRefused(
            f"The nonce does not solve the challenge: sha256 of challenge:nonce must start "
            f"with {found.bits} zero bits."
        )
    return found


def solve(challenge: str, bits: int) -> str:
    """The first nonce "0", "1", ... that does `bits` of work on `challenge` (the one
    proof.js finds), for tests and load tools."""
    if not 0 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be 0 to {MAX_BITS}, not {bits}")
    return hashcash.solve(challenge, bits)
