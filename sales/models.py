"""A flash sale's definition: PostgreSQL is its system of record.

The live gate (remaining stock, buckets, idempotency, the ledger) is in Redis,
written by sales/live.py; see sales/keys.py for the layout.
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from sales.validation import moment_problem, validate_image_url, validate_moment, validate_text

MAX_QUANTITY = 10_000_000
MAX_PER_USER_LIMIT = 1_000
MAX_RATE = 1_000_000
MAX_PROOF_BITS = 24
MAX_PRICE = Decimal("1000000.00")

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
sku_validator = RegexValidator(
    SKU_PATTERN.removesuffix("$") + r"\Z",
    "Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)
currency_validator = RegexValidator(r"^[A-Z]{3}\Z", "Use a three-letter ISO 4217 code such as EUR or USD.")


class SaleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"
    SOLD_OUT = "sold_out", "Sold out"
    ENDED = "ended", "Ended"


# The database's constraints, by name: sales.services maps a refusal to its meaning.
ONE_OPEN_SALE_PER_SKU = "one_open_sale_per_merchant_sku"
ENDS_AFTER_IT_STARTS = "sale_ends_after_it_starts"

# Statuses in which a sale holds live state in Redis and its SKU is taken.
OPEN_STATUSES = (SaleStatus.SCHEDULED, SaleStatus.LIVE, SaleStatus.PAUSED, SaleStatus.SOLD_OUT)


class Sale(models.Model):
    merchant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    product_name = models.CharField(max_length=200, validators=[validate_text])
    image_url = models.CharField(
        "picture",
        max_length=500,
        blank=True,
        default="",
        validators=[validate_image_url],
        help_text="The product's picture on the shopper pages: an https:// address, or a path on this site.",
    )
    sku = models.CharField("SKU", max_length=64, validators=[sku_validator])
    unit_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_PRICE)],
    )
    currency = models.CharField(max_length=3, default="EUR", validators=[currency_validator])
    quantity = models.PositiveIntegerField(
        help_text="Units on offer. Once live it can only be raised (restock).",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)],
    )
    starts_at = models.DateTimeField(null=True, blank=True, validators=[validate_moment])
    ends_at = models.DateTimeField(null=True, blank=True, validators=[validate_moment])
    queue_opens_at = models.DateTimeField(
        "line opens at",
        null=True,
        blank=True,
        validators=[validate_moment],
        help_text="When shoppers may start joining the line before the start (the pre-queue). "
        "Everyone in it at the start is shuffled once, fairly, and served in that order; "
        "later arrivals join behind. Empty: the line opens as soon as the sale is scheduled.",
    )
    per_user_limit = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_PER_USER_LIMIT)]
    )
    # Limits that follow the client, not the cookie (issue 22): a bot that mints shopper
    # cookies by the hundred still has one address. An IPv6 /64 counts as one address.
    # Only the hosted pages' shoppers (the fg_shopper cookie) are counted: a storefront's
    # backend calls from one address for all of its shoppers, and vouches for each.
    units_per_address = models.PositiveIntegerField(
        "units per client address",
        default=4,
        help_text="How many units the hosted pages' shoppers behind one network address may buy "
        "in this sale, all together (a household or an office shares one address). 0: no cap.",
        validators=[MaxValueValidator(MAX_QUANTITY)],
    )
    admissions_per_address = models.PositiveIntegerField(
        "waiting-room turns per client address",
        default=10,
        help_text="How many turns to buy the waiting room gives shoppers behind one network "
        "address in this sale, all together, places still waiting included. 0: no cap.",
        validators=[MaxValueValidator(MAX_QUANTITY)],
    )
    proof_bits = models.PositiveIntegerField(
        "proof of work (bits)",
        default=18,
        help_text="How much work a browser does before the hosted pages give it a shopper "
        "identity for this sale: about 2^bits hashes (18: about a third of a second on a mid-range "
        "phone, measured by make bench; each bit more doubles it). 0: none. A storefront's signed shoppers never do it.",
        validators=[MaxValueValidator(MAX_PROOF_BITS)],
    )
    admission_rate = models.PositiveIntegerField(
        "shoppers let in per second",
        default=50,
        help_text="How many shoppers per second the waiting room lets in to buy (its admission rate).",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE)],
    )
    rate = models.PositiveIntegerField(
        "buy requests per second",
        default=1000,
        help_text="How many Buy clicks per second reach the stock; the others are sent to the "
        "waiting room (the engine's token bucket refills at this rate).",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE)],
    )
    burst = models.PositiveIntegerField(
        "buy requests at once",
        default=2000,
        help_text="How many Buy clicks may reach the stock in one instant before the rate above "
        "applies (the token bucket's size).",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE)],
    )
    status = models.CharField(max_length=16, choices=SaleStatus.choices, default=SaleStatus.DRAFT)
    # The order pipeline's safety net (orders.consumer): units with an order row,
    # bumped with an optimistic lock on `version`, never past `quantity`.
    persisted_units = models.PositiveIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=0, editable=False)
    oversold_flag = models.BooleanField(
        default=False,
        editable=False,
        help_text="The consumer refused orders past the quantity (see anomalies).",
    )
    final_report = models.JSONField(null=True, blank=True, editable=False)
    # The pre-queue's shuffle at the start, as the admitter drew it (waitingroom/lua/admit.lua):
    # drawn_at, entrants, seed, joined_digest, drawn_digest (waitingroom/draw.py checks one).
    prequeue_draw = models.JSONField(null=True, blank=True, editable=False)
    went_live_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open sale per SKU and merchant: each merchant's SKUs are their own, and
            # the seed-compatible POST /order finds the sale by SKU within one merchant's.
            models.UniqueConstraint(
                fields=["merchant", "sku"], condition=Q(status__in=OPEN_STATUSES), name=ONE_OPEN_SALE_PER_SKU
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name=ENDS_AFTER_IT_STARTS,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_name} ({self.sku}) #{self.pk}"

    def clean(self) -> None:
        # Runs even when a field failed its own validators: nothing invalid is compared or queried.
        moments = (self.starts_at, self.ends_at, self.queue_opens_at)
        if any(moment_problem(moment) for moment in moments if moment):
            return
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The sale must end after it starts."})
        if self.queue_opens_at and not self.starts_at:
            raise ValidationError(
                {"queue_opens_at": "The line opens before a start: set the start time too."}
            )
        if self.queue_opens_at and self.starts_at and self.queue_opens_at >= self.starts_at:
            raise ValidationError({"queue_opens_at": "The line must open before the sale starts."})
        if self.sku and sku_validator.regex.match(self.sku) and self.status in OPEN_STATUSES:
            clash = Sale.objects.filter(merchant_id=self.merchant_id, sku=self.sku, status__in=OPEN_STATUSES)
            if clash.exclude(pk=self.pk).exists():
                raise ValidationError({"sku": f"Another open sale of yours already sells SKU {self.sku!r}."})


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class MerchantToken(models.Model):
    """An API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    PREFIX = "fg_"

    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The token's first characters.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, *, merchant: object, name: str) -> tuple[MerchantToken, str]:
        """Create a token; return it with the plain text, which is never stored."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(merchant=merchant, name=name, token_hash=_hash_token(raw), hint=raw[:10])
        return token, raw

    @classmethod
    def find(cls, raw: str) -> MerchantToken | None:
        return cls.objects.select_related("merchant").filter(token_hash=_hash_token(raw)).first()


class StorefrontKey(models.Model):
    """A merchant's storefront key: the shop's backend signs each shopper's
    X-Shopper-Token with it (orders/buy/identity.py checks the tokens).

    The secret is shown once, at creation. It is kept here, and in the Redis
    mirror the buy path reads (sales/storefront.py), because checking an HMAC
    needs the key itself: a hash would not do, as it does for API tokens.
    Revoking deletes the row and its mirror entry."""

    KEY_ID_PREFIX = "fgk_"

    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="storefront_keys"
    )
    name = models.CharField(max_length=100, help_text="Which storefront uses it, e.g. “web shop”.")
    key_id = models.CharField("key id", max_length=32, unique=True, editable=False)
    secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"
