"""The admission token: what lets a shopper admitted from the waiting room buy
without going through the token bucket.

The waiting room issues it (waitingroom/admission.py), the buy path checks it
(orders/buy/decision.py); both use this module, so the format lives in one place.
It is signed with the server's secret (django.core.signing, its own salt) and
binds the shopper, the sale, the place (ticket), the admission's nonce and its
expiry. The signature proves the server issued it; the nonce, checked inside
buy.lua against the admission the admitter recorded (queue:admitted), makes it
single use and lets it expire. No ORM here: the buy path imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.core import signing

ADMISSION_SALT = "flux.admission"


@dataclass(frozen=True, slots=True)
class Admission:
    sale_id: int
    shopper: str
    ticket: int
    nonce: str
    expires_ms: int


@cache
def _signer() -> signing.Signer:
    # Built once per process (the hot path never rebuilds it); SECRET_KEY_FALLBACKS
    # are honoured, so rotating the secret does not void admissions in flight.
    return signing.Signer(salt=ADMISSION_SALT)


def admission_sign(*, admission: Admission) -> str:
    """The token of an admission (URL- and header-safe)."""
    return _signer().sign_object(
        {
            "s": admission.sale_id,
            "p": admission.shopper,
            "t": admission.ticket,
            "n": admission.nonce,
            "e": admission.expires_ms,
        }
    )


def admission_read(*, token: str) -> Admission | None:
    """The admission a token carries, or None when the server did not sign it."""
    try:
        fields = _signer().unsign_object(token)
        return Admission(
            sale_id=int(fields["s"]),
            shopper=str(fields["p"]),
            ticket=int(fields["t"]),
            nonce=str(fields["n"]),
            expires_ms=int(fields["e"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def admission_nonce(*, token: str, sale_id: int, shopper: str) -> str | None:
    """The buy path's check: the nonce of a genuine token issued to this shopper
    for this sale, else None (forged, tampered, another shopper's or another
    sale's). Expiry and single use are buy.lua's to check, against the admission
    recorded in Redis: a replayed idempotency key must still get its answer after
    the token expired."""
    admission = admission_read(token=token)
    if admission is None or admission.sale_id != sale_id or admission.shopper != shopper:
        return None
    return admission.nonce
