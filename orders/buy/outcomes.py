"""Every outcome of a buy: its machine-readable name (the body's `status`), the
words a shopper reads, and the HTTP status (infra.errors.HTTP_STATUS, the one
table of statuses). buy.lua returns these same names."""

from __future__ import annotations

from enum import StrEnum

from infra.errors import HTTP_STATUS


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    PENDING = "accepted_pending"
    RATE_LIMITED = "rate_limited"
    SOLD_OUT = "sold_out"
    NOT_STARTED = "not_started"
    PAUSED = "paused"
    ENDED = "ended"
    LIMIT_REACHED = "limit_reached"
    NOT_FOUND = "not_found"
    KEY_REUSED = "idempotency_key_reused"
    SHOPPER_REQUIRED = "shopper_required"
    SHOPPER_INVALID = "shopper_invalid"
    UNAVAILABLE = "unavailable"
    ADMISSION_INVALID = "admission_invalid"
    ADDRESS_LIMIT_REACHED = "address_limit_reached"
    PROOF_REQUIRED = "proof_required"

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.value]

    @property
    def detail(self) -> str:
        return DETAILS[self]


DETAILS: dict[Outcome, str] = {
    Outcome.ACCEPTED: "Order accepted.",
    Outcome.PENDING: "Order accepted; its hand-off to the order log is pending and will complete without you.",
    Outcome.RATE_LIMITED: "Too many buyers right now: wait in the waiting room.",
    Outcome.SOLD_OUT: "Sold out.",
    Outcome.NOT_STARTED: "The sale has not started.",
    Outcome.PAUSED: "The sale is paused.",
    Outcome.ENDED: "The sale has ended.",
    Outcome.LIMIT_REACHED: "You have reached this sale's per-shopper limit.",
    Outcome.ADDRESS_LIMIT_REACHED: (
        "Shoppers at your network address have bought as many units as this sale allows per address."
    ),
    Outcome.PROOF_REQUIRED: (
        "This sale asks your browser for more proof of work than your shopper cookie carries: "
        "open the sale's page again."
    ),
    Outcome.NOT_FOUND: "No such sale.",
    Outcome.KEY_REUSED: "This Idempotency-Key was used for a different request.",
    Outcome.SHOPPER_REQUIRED: (
        "Who is buying? Buy from the sale's page (it sets the shopper cookie), or have the shop "
        "send an X-Shopper-Token signed with its storefront key."
    ),
    # What buy.lua answers; the edge's own refusals (orders/buy/identity.py) say what is wrong.
    Outcome.SHOPPER_INVALID: "This shopper token was signed for another merchant's sales.",
    Outcome.ADMISSION_INVALID: (
        "This admission token is not valid for you here: it was used already, has expired, "
        "or was not issued to you for this sale. Join the waiting room again."
    ),
}
