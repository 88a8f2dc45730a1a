"""Writes on sales: creation, edits and the status machine (TRANSITIONS below;
README's "Run a sale" draws it, and tests/test_state_diagram.py keeps the two equal).

Each change locks the sale's row, checks the transition, saves the row (so
the database's constraints refuse first), writes Redis (one Lua script) and
commits, all inside one transaction: if Redis refuses, nothing in PostgreSQL
changes. A COMMIT failing after the Redis write would leave Redis ahead of the
row; the next change or the scheduler's sweep brings the two back in line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from infra.errors import ApplicationError, fields_summary
from infra.kafka import orders_backlog
from sales import live
from sales.models import ENDS_AFTER_IT_STARTS, ONE_OPEN_SALE_PER_SKU, OPEN_STATUSES, Sale, SaleStatus
from sales.storefront import storefront_keys_mirror

if TYPE_CHECKING:
    from django.contrib.auth.models import User as Merchant

logger = logging.getLogger(__name__)

S = SaleStatus
# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "schedule": (frozenset({S.DRAFT}), S.SCHEDULED),
    "go_live": (frozenset({S.DRAFT, S.SCHEDULED}), S.LIVE),
    "pause": (frozenset({S.LIVE, S.SOLD_OUT}), S.PAUSED),
    "resume": (frozenset({S.PAUSED}), S.LIVE),
    "mark_sold_out": (frozenset({S.LIVE}), S.SOLD_OUT),
    "end": (frozenset({S.DRAFT, S.SCHEDULED, S.LIVE, S.PAUSED, S.SOLD_OUT}), S.ENDED),
    # Re-arm keeps the status and rewrites the live state (rebuilt if Redis lost it).
    "rearm": (frozenset({S.SCHEDULED, S.LIVE, S.PAUSED, S.SOLD_OUT}), None),
}
EDITABLE_STATUSES = frozenset({S.DRAFT, S.SCHEDULED})
# What a merchant may still change once a sale runs (sale_set_rates): they take effect at once.
RATE_FIELDS = ("admission_rate", "rate", "burst")
CONFIG_FIELDS = (
    "product_name", "image_url", "sku", "unit_price", "currency", "quantity", "starts_at", "ends_at",
    "queue_opens_at", "per_user_limit", "units_per_address", "admissions_per_address", "proof_bits",
    "admission_rate", "rate", "burst",
)  # fmt: skip


def _invalid(error: ValidationError) -> ApplicationError:
    fields = {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
    return ApplicationError("invalid", f"Invalid sale: {fields_summary(fields)}", fields=fields)


def _constraint_refusal(error: IntegrityError, sale: Sale) -> ApplicationError:
    """The refusal a database constraint stands for, found by the constraint's name
    (a concurrent writer can get past the model's own checks; the row cannot).
    Any other integrity error is not a refusal we know: it goes up as it is."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if constraint == ONE_OPEN_SALE_PER_SKU:
        return ApplicationError(
            "conflict",
            f"Sale {sale.pk or '(new)'}: another open sale of yours already sells SKU {sale.sku!r}.",
            fields={"sku": ["already on sale"]},
        )
    if constraint == ENDS_AFTER_IT_STARTS:
        return ApplicationError(
            "invalid",
            "Invalid sale: ends_at: The sale must end after it starts.",
            fields={"ends_at": ["The sale must end after it starts."]},
        )
    raise error


def _validate_and_save(sale: Sale) -> None:
    try:
        sale.full_clean(exclude=["merchant"])
        with transaction.atomic():  # a savepoint: a refused row leaves the outer transaction usable
            sale.save()
    except ValidationError as error:
        raise _invalid(error) from error
    except IntegrityError as error:
        raise _constraint_refusal(error, sale) from error


@transaction.atomic
def sale_create(*, merchant: Merchant, **fields: Any) -> Sale:
    unknown = set(fields) - set(CONFIG_FIELDS)
    if unknown:
        raise ApplicationError("invalid", f"Unknown sale fields: {', '.join(sorted(unknown))}")
    if fields.get("image_url", "") is None:
        fields["image_url"] = ""  # no picture
    sale = Sale(merchant=merchant, status=S.DRAFT, **fields)
    _validate_and_save(sale)
    return sale


@transaction.atomic
def sale_update(*, sale_id: int, **fields: Any) -> Sale:
    """Edit a sale's definition, only while nothing can have been sold (draft,
    scheduled). Once it runs, only its rates change (sale_set_rates)."""
    sale = Sale.objects.select_for_update().get(pk=sale_id)
    previous_sku = sale.sku
    if sale.status not in EDITABLE_STATUSES:
        if fields and set(fields) <= set(RATE_FIELDS) and sale.status != S.ENDED:
            return sale_set_rates(sale_id=sale_id, **fields)
        raise ApplicationError(
            "invalid_transition",
            f"A {sale.status} sale cannot be edited but for its rates ({', '.join(RATE_FIELDS)}); "
            "use restock to add units, or pause/end it.",
        )
    for name, value in fields.items():
        if name not in CONFIG_FIELDS:
            raise ApplicationError("invalid", f"Unknown sale field: {name}")
        setattr(sale, name, "" if name == "image_url" and value is None else value)
    _validate_and_save(sale)
    if sale.status == S.SCHEDULED:
        # Nothing is sold before a sale goes live: its state is rewritten whole.
        live.live_forget(sale_id=sale.pk)
        live.live_release_sku(sale=Sale(pk=sale.pk, sku=previous_sku, merchant=sale.merchant))
        live.live_arm(sale=sale, status=S.SCHEDULED, remaining_if_new=sale.quantity)
    return sale


@transaction.atomic
def sale_set_rates(
    *, sale_id: int, admission_rate: int | None = None, rate: int | None = None, burst: int | None = None
) -> Sale:
    """Change a sale's rates, also while it runs: the waiting room's admission
    rate, the buy API's rate and burst. A sale with live state gets them at once
    (the next buy, the admitter's next tick); an ended sale keeps its own."""
    try:
        sale = Sale.objects.select_for_update().get(pk=sale_id)
    except Sale.DoesNotExist:
        raise ApplicationError("not_found", f"No sale {sale_id}.") from None
    if sale.status == S.ENDED:
        raise ApplicationError("invalid_transition", f"Sale {sale.pk} has ended; its rates are final.")
    rates = {
        name: value
        for name, value in (("admission_rate", admission_rate), ("rate", rate), ("burst", burst))
        if value is not None
    }
    if not rates:
        raise ApplicationError("invalid", f"Give at least one of {', '.join(RATE_FIELDS)}.")
    for name, value in rates.items():
        setattr(sale, name, value)
    _validate_and_save(sale)
    if sale.status != S.DRAFT and not live.live_set_rates(sale_id=sale.pk, rates=rates):
        # The state was lost: rebuild it (as sale_rearm does; refused until drained).
        _arm(sale, S.LIVE if sale.status == S.SOLD_OUT else sale.status, sale.went_live_at is not None)
    return sale


def _remaining_for_new_state(sale: Sale, *, ever_live: bool) -> int:
    """Stock to write when Redis has no state for the sale.

    A sale that never went live starts full. One that did has lost its state
    (a Redis restart without its append-only file, say): rebuild from the
    system of record, remaining = quantity - units persisted, which is only
    right once every accepted order has reached PostgreSQL, so refuse while the
    order topic still holds unconsumed messages.
    """
    if not ever_live:
        return sale.quantity
    backlog = orders_backlog()
    if backlog:
        raise ApplicationError(
            "not_drained",
            f"Sale {sale.pk} lost its live state and {backlog} order message(s) are not persisted yet; "
            "re-arm once the order consumer has caught up.",
        )
    # Through the reverse relation: sales never imports the orders app.
    units_persisted = sale.orders.aggregate(units=Sum("quantity"))["units"] or 0
    return max(0, sale.quantity - units_persisted)


def _save(sale: Sale) -> None:
    try:
        with transaction.atomic():  # a savepoint: a refused row leaves the outer transaction usable
            sale.save()
    except IntegrityError as error:
        raise _constraint_refusal(error, sale) from error


def _transition(
    sale_id: int,
    action: str,
    *,
    prepare: Callable[[Sale], None] | None = None,
    effect: Callable[[Sale, bool], None] | None = None,
) -> Sale:
    """Lock the row, check the move, ``prepare`` the row's fields, save it (the
    database's constraints speak now), then apply the Redis ``effect`` and
    commit. A refusal at any step leaves both stores as they were; only a failed
    COMMIT after the Redis write could leave Redis ahead (see the module doc)."""
    allowed_from, target = TRANSITIONS[action]
    with transaction.atomic():
        try:
            sale = Sale.objects.select_for_update().get(pk=sale_id)
        except Sale.DoesNotExist:
            raise ApplicationError("not_found", f"No sale {sale_id}.") from None
        if sale.status not in allowed_from:
            allowed = ", ".join(sorted(allowed_from))
            raise ApplicationError(
                "invalid_transition",
                f"Cannot {action.replace('_', ' ')} sale {sale.pk}: it is {sale.status} (allowed from: {allowed}).",
            )
        ever_live = sale.went_live_at is not None
        if prepare:
            prepare(sale)
        sale.status = target or sale.status
        _save(sale)
        if effect:
            effect(sale, ever_live)
    logger.info("sale %s: %s -> %s", sale.pk, action, sale.status)
    return sale


def _arm(sale: Sale, status: str, ever_live: bool) -> None:
    live.live_arm(
        sale=sale, status=status, remaining_if_new=_remaining_for_new_state(sale, ever_live=ever_live)
    )


def sale_schedule(*, sale_id: int, now: datetime | None = None) -> Sale:
    now = now or timezone.now()

    def prepare(sale: Sale) -> None:
        problems = {}
        if sale.starts_at is None:
            problems["starts_at"] = ["A scheduled sale needs a start time."]
        if sale.ends_at is None:
            problems["ends_at"] = ["A scheduled sale needs an end time."]
        elif sale.ends_at <= now:
            problems["ends_at"] = ["The end time has already passed."]
        if problems:
            summary = " ".join(messages[0] for messages in problems.values())
            raise ApplicationError("invalid", f"Cannot schedule: {summary}", fields=problems)

    return _transition(
        sale_id, "schedule", prepare=prepare, effect=lambda sale, ever: _arm(sale, S.SCHEDULED, ever)
    )


def sale_go_live(*, sale_id: int, now: datetime | None = None) -> Sale:
    """Arm the sale now: its stock, limits and rates go to Redis with status live."""
    now = now or timezone.now()

    def prepare(sale: Sale) -> None:
        if sale.ends_at is not None and sale.ends_at <= now:
            raise ApplicationError(
                "invalid_transition", f"Sale {sale.pk} cannot go live: its end time has passed."
            )
        if sale.starts_at is None or sale.starts_at > now:
            sale.starts_at = now  # going live early moves the start to now...
            if sale.queue_opens_at is not None and sale.queue_opens_at >= now:
                sale.queue_opens_at = None  # ... and the line, not yet open, opens with it
        sale.went_live_at = sale.went_live_at or now

    return _transition(
        sale_id, "go_live", prepare=prepare, effect=lambda sale, ever: _arm(sale, S.LIVE, ever)
    )


def _set_live_status(sale: Sale, status: str, ever_live: bool) -> None:
    if live.live_set_status(sale_id=sale.pk, status=status) is None:
        _arm(sale, status, ever_live)  # the state was lost: rebuild it (refused until drained)


def sale_pause(*, sale_id: int) -> Sale:
    return _transition(sale_id, "pause", effect=lambda sale, ever: _set_live_status(sale, S.PAUSED, ever))


def sale_resume(*, sale_id: int) -> Sale:
    return _transition(sale_id, "resume", effect=lambda sale, ever: _set_live_status(sale, S.LIVE, ever))


def sale_end(*, sale_id: int, now: datetime | None = None) -> Sale:
    now = now or timezone.now()

    def prepare(sale: Sale) -> None:
        sale.ended_at = now
        # The window closes now; a sale ended before its start never opened, and
        # keeps the window it was planned with (ended_at says when it ended).
        started = sale.starts_at is None or sale.starts_at < now
        if started and (sale.ends_at is None or sale.ends_at > now):
            sale.ends_at = now

    def effect(sale: Sale, ever_live: bool) -> None:
        # An ended sale keeps its state (figures, ledger) with status ended; the
        # buy script refuses it... A draft never had state: nothing is written.
        live.live_set_status(sale_id=sale.pk, status=S.ENDED, ends_at=sale.ends_at)
        live.live_release_sku(sale=sale)
        # ... for a while: Redis must not grow with every sale ever run. Longer than
        # the re-publisher and the final report look at an ended sale (a day).
        live.live_expire(sale_id=sale.pk, seconds=settings.ENDED_SALE_REDIS_SECONDS)

    return _transition(sale_id, "end", prepare=prepare, effect=effect)


def sale_rearm(*, sale_id: int) -> Sale:
    """Write the sale's live state again from PostgreSQL. Existing stock figures
    are kept; a state Redis lost is rebuilt (refused until the order topic is
    drained, see _remaining_for_new_state)."""

    def effect(sale: Sale, ever_live: bool) -> None:
        status = S.LIVE if sale.status == S.SOLD_OUT else sale.status
        _arm(sale, status, ever_live)

    return _transition(sale_id, "rearm", effect=effect)


def sale_mark_sold_out(*, sale_id: int) -> Sale:
    """Record in PostgreSQL that Redis sold the last unit. Checked again under
    the row lock: a restock that slipped in since the sweep looked wins."""

    def prepare(sale: Sale) -> None:
        state = live.live_state(sale.pk)
        if state is None or state.remaining > 0:
            raise ApplicationError("invalid_transition", f"Sale {sale.pk} has stock again; not sold out.")

    return _transition(sale_id, "mark_sold_out", prepare=prepare)


@transaction.atomic
def sale_restock(*, sale_id: int, units: int) -> Sale:
    """Add units to a sale. A live or sold-out sale gets them at once (a sold-out
    one goes live again); a draft or scheduled one just offers more."""
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise ApplicationError(
            "invalid", "Restock needs a positive number of units.", fields={"units": ["must be ≥ 1"]}
        )
    sale = Sale.objects.select_for_update().get(pk=sale_id)
    if sale.status == S.ENDED:
        raise ApplicationError("invalid_transition", f"Sale {sale.pk} has ended; it cannot be restocked.")
    sale.quantity += units
    try:
        sale.full_clean(exclude=["merchant"])
    except ValidationError as error:
        raise _invalid(error) from error
    reopening = sale.status == S.SOLD_OUT
    if reopening:
        sale.status = S.LIVE
    sale.save()
    if sale.status != S.DRAFT and live.live_restock(sale_id=sale.pk, units=units) is None:
        # The state was lost; rebuild it (with the new quantity) instead.
        _arm(sale, sale.status, sale.went_live_at is not None)
    if reopening:
        live.live_set_status(sale_id=sale.pk, status=S.LIVE)
    return sale


def sales_sweep(*, now: datetime | None = None) -> dict[str, list[int]]:
    """The scheduler's tick: start sales whose time came, end those whose time is
    up, record the ones Redis has sold out, and re-arm any whose live state
    Redis lost (the storefront keys' mirror too). Safe to run at any moment and any
    number of times; a sale whose start passed while the scheduler was down
    starts now, unless its end passed too (then it ends, never reopening)."""
    now = now or timezone.now()
    done: dict[str, list[int]] = {"went_live": [], "ended": [], "sold_out": [], "rearmed": []}

    def attempt(kind: str, action: Callable[..., Sale], sale_id: int) -> None:
        try:
            action(sale_id=sale_id)
            done[kind].append(sale_id)
        except ApplicationError as error:  # raced with a merchant, or a dependency is down
            logger.warning("sweep: sale %s not %s: %s", sale_id, kind, error.message)

    for sale_id in Sale.objects.filter(status__in=OPEN_STATUSES, ends_at__lte=now).values_list(
        "pk", flat=True
    ):
        attempt("ended", sale_end, sale_id)
    for sale_id in Sale.objects.filter(status=S.SCHEDULED, starts_at__lte=now).values_list("pk", flat=True):
        attempt("went_live", sale_go_live, sale_id)
    armed = list(Sale.objects.filter(status__in=OPEN_STATUSES).values("pk", "status"))
    states = live.live_states([row["pk"] for row in armed])
    for row in armed:
        state = states[row["pk"]]
        if state is None:
            logger.warning("sweep: sale %s has no live state in Redis; re-arming", row["pk"])
            attempt("rearmed", sale_rearm, row["pk"])
        elif row["status"] == S.LIVE and state.remaining == 0:
            attempt("sold_out", sale_mark_sold_out, row["pk"])
    try:  # the buy path knows storefront keys only from their Redis mirror
        if storefront_keys_mirror(only_if_stale=True):
            logger.warning("sweep: the storefront keys' mirror in Redis was stale; rewritten")
    except ApplicationError as error:
        logger.warning("sweep: storefront keys not mirrored: %s", error.message)
    return done


def sale_init(*, merchant: Merchant, sku: str, quantity: int, unit_price: Any) -> Sale:
    """The seed's POST /init: end this merchant's open sale of the SKU, if any,
    and start a fresh live one with `quantity` units (another merchant's sales of
    the same SKU are theirs: SKUs are each merchant's own)."""
    open_sale = Sale.objects.filter(merchant=merchant, sku=sku, status__in=OPEN_STATUSES).first()
    # A draft does not hold the SKU: the new sale is validated before the old one ends.
    sale = sale_create(merchant=merchant, product_name=sku, sku=sku, quantity=quantity, unit_price=unit_price)
    if open_sale is not None:
        sale_end(sale_id=open_sale.pk)
    return sale_go_live(sale_id=sale.pk)


def sale_record_draw(*, sale_id: int, record: dict[str, object]) -> bool:
    """Keep the pre-queue's shuffle (waitingroom/draw.py) on the sale, once: the first
    record stands. Returns whether the sale holds a record now."""
    Sale.objects.filter(pk=sale_id, prequeue_draw__isnull=True).update(prequeue_draw=record)
    return Sale.objects.filter(pk=sale_id, prequeue_draw__isnull=False).exists()
