"""The polling page's proof that it is open: a signed, short-lived presence token.

A waiting shopper is admitted only while its page is there to receive the turn: an
open websocket, or a poll of status.json (waitingroom/queue.py). Any GET used to
count as that poll, so a bot kept hundreds of places present with one request a
second each and no page at all (issue 22). Now a poll counts only when it carries
the presence token the previous answer (or the waiting room's page) gave this shopper
for this sale, signed here and good for PRESENCE_TOKEN_SECONDS: a poll a page makes.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.signing import BadSignature, SignatureExpired, TimestampSigner

PRESENCE_SALT = "flux.presence"
# Long enough for a page that polls every second through a slow spell; short enough that
# a token copied elsewhere stops working soon after the page that had it closed.
PRESENCE_TOKEN_SECONDS = 15
MAX_TOKEN_LENGTH = 200


@lru_cache(maxsize=1)
def _signer() -> TimestampSigner:
    return TimestampSigner(salt=PRESENCE_SALT)


def presence_token(*, sale_id: int, shopper: str) -> str:
    """The token the page sends with its next poll."""
    return _signer().sign(f"{sale_id}.{shopper}")


def presence_valid(token: str | None, *, sale_id: int, shopper: str) -> bool:
    """Whether `token` is this shopper's for this sale, signed here less than
    PRESENCE_TOKEN_SECONDS ago."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    try:
        value = _signer().unsign(token, max_age=PRESENCE_TOKEN_SECONDS)
    except (BadSignature, SignatureExpired):
        return False
    return value == f"{sale_id}.{shopper}"
