"""Merchant pages: each merchant sees and changes only their own sales; superusers
(platform operators) see all. Every change goes through sales.services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import models
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from infra.errors import ApplicationError
from sales import selectors, services
from sales.merchants import MerchantScopedAdmin, can_see_all
from sales.models import MerchantToken, Sale, SaleStatus, StorefrontKey
from sales.storefront import storefront_key_create, storefront_key_revoke


def local_time(moment: datetime | None) -> str | None:
    """A moment in the active time zone, with the zone's abbreviation
    ("2026-12-01 10:00 UTC"): a bare "10:00" leaves a merchant guessing which
    zone their sale starts in."""
    if moment is None:
        return None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def zoned_time(field: str, description: str) -> Callable[[Any, Any], str]:
    """A read-only column or field showing the datetime `field` with its zone.
    Django's own rendering of a read-only datetime drops the zone, so pages list
    this instead of the field itself."""

    @admin.display(description=description, ordering=field)
    def show(modeladmin: Any, obj: Any) -> str:
        # A read-only field would print None as "None": show the admin's dash instead.
        return local_time(getattr(obj, field)) or modeladmin.get_empty_value_display()

    return show


@dataclass(frozen=True)
class Confirmation:
    """A final move is confirmed on a page of its own first (no JavaScript needed)."""

    note: str  # what makes the move final, said before it is made
    yes_one: str  # the confirming button for one sale
    yes_many: str  # ... and for several (the list action)


@dataclass(frozen=True)
class Transition:
    """One move of the status machine as the admin offers it. Which statuses it
    starts from is services.TRANSITIONS' business, not repeated here."""

    label: str  # the button on a sale's page
    service: Callable[..., Sale]
    bulk_label: str | None = None  # the list action's description; None: not offered in bulk
    confirmation: Confirmation | None = None
    # Offered only when this also holds (the status allowing the move is checked first).
    shown_when: Callable[[Sale], bool] | None = None


# The one table of the admin's moves: the buttons on a sale's page, the list
# actions (made from it below) and the confirmation pages all read it.
TRANSITION_BUTTONS: dict[str, Transition] = {
    "schedule": Transition("Schedule", services.sale_schedule, bulk_label="Schedule selected sales"),
    "go_live": Transition("Go live now", services.sale_go_live, bulk_label="Go live now"),
    "pause": Transition("Pause", services.sale_pause, bulk_label="Pause selected sales"),
    "resume": Transition("Resume", services.sale_resume, bulk_label="Resume selected sales"),
    "end": Transition(
        "End sale",
        services.sale_end,
        bulk_label="End selected sales",
        confirmation=Confirmation(
            note=(
                "Ending is final: the sale stops selling at once and never reopens, and its SKU "
                "is free for a new sale. What is sold stays sold; orders already accepted are "
                "still written to the books."
            ),
            yes_one="Yes, end the sale",
            yes_many="Yes, end these sales",
        ),
    ),
    # Re-arm rewrites a live state Redis lost; with the state there it has nothing to do.
    "rearm": Transition(
        "Re-arm", services.sale_rearm, shown_when=lambda sale: selectors.sale_needs_rearm(sale=sale)
    ),
}


def transitions_offered(sale: Sale) -> list[tuple[str, Transition]]:
    """The moves to offer as buttons on the sale's page, in the table's order."""
    offered = []
    for action, transition in TRANSITION_BUTTONS.items():
        if sale.status not in services.TRANSITIONS[action][0]:
            continue
        if transition.shown_when is not None:
            try:
                if not transition.shown_when(sale):
                    continue
            except ApplicationError:
                continue  # Redis does not answer: the figures box says so, and the move could not work
        offered.append((action, transition))
    return offered


def _bulk_action(action: str, transition: Transition) -> Callable[..., HttpResponse | None]:
    """The list action of one move; its name (`<action>_selected`) is what the
    list page posts."""

    def run(modeladmin: SaleAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return modeladmin.bulk_transition(request, queryset, action)

    run.__name__ = run.__qualname__ = f"{action}_selected"
    return admin.action(description=transition.bulk_label, permissions=["change"])(run)


# The books of an ended sale (orders.reconcile.Reconciliation), in reading order.
# A merchant's words; the engine's (what each figure is counted from) in the comments.
FINAL_REPORT_LABELS = {
    "quantity": "Units offered",
    "sold": "Units sold",  # the live stock's count (Redis)
    "units_persisted": "Units in saved orders",  # order rows (PostgreSQL)
    "orders_persisted": "Orders",
    "remaining": "Units left",
    "drift": "Sold but not in a saved order (0 once settled)",  # sold − units in orders
    "anomalies": "Orders refused as past the stock",  # the consumer's oversold guard
    "reservations_in_ledger": "Orders accepted, still being saved",  # the ledger's reservations
    "pending_reservations": "Orders waiting to be saved",  # pending, not yet persisted
    "consumer_lag": "Order messages not yet read",  # the consumer group's lag
    "settled": "Books settled",
}
FINAL_REPORT_HIDDEN = {"sale_id", "status"}  # the page already shows both


def final_report_rows(report: dict[str, Any], sale: Sale | None = None) -> list[tuple[str, Any]]:
    """(label, value) rows of a final report, and the revenue of its saved orders
    (units × the sale's price); keys this page does not know yet are shown too,
    under their own name, rather than dropped."""
    known = [(label, report[key]) for key, label in FINAL_REPORT_LABELS.items() if key in report]
    if sale is not None and isinstance(report.get("units_persisted"), int):
        known.append(("Revenue", f"{report['units_persisted'] * sale.unit_price:.2f} {sale.currency}"))
    unknown = [
        (key.replace("_", " ").capitalize(), value)
        for key, value in report.items()
        if key not in FINAL_REPORT_LABELS and key not in FINAL_REPORT_HIDDEN
    ]
    return [(label, _report_value(value)) for label, value in known + unknown]


def _report_value(value: Any) -> Any:
    if value is None:
        return "—"  # e.g. no consumer lag could be read
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _locked(sale: Sale | None) -> bool:
    """Once live (or ended), a sale's definition is fixed; units are added with Restock."""
    return sale is not None and sale.status not in services.EDITABLE_STATUSES


class RestockForm(forms.Form):
    units = forms.IntegerField(min_value=1, max_value=10_000_000, label="Units to add")


# Datetime fields shown read-only are replaced by their zoned display (zoned_time).
ZONED_TIMES = {
    "starts_at": "starts", "ends_at": "ends", "went_live_at": "went_live", "ended_at": "ended",
    "queue_opens_at": "line_opens",
}  # fmt: skip


@admin.register(Sale)
class SaleAdmin(MerchantScopedAdmin):
    # Narrow enough for a 1,400 px window with the filter column: remaining is
    # quantity − sold, so one "sold" column ("3 / 100") says both.
    list_display = ["id", "product_name", "sku", "status", "sold_of_quantity", "persisted", "starts", "ends"]
    list_display_links = ["id", "product_name"]
    list_filter = ["status"]
    search_fields = ["product_name", "sku"]
    actions = [_bulk_action(action, t) for action, t in TRANSITION_BUTTONS.items() if t.bulk_label]
    change_form_template = "admin/sales/sale/change_form.html"
    fieldsets = [
        (None, {"fields": ["product_name", "image_url", "sku", "unit_price", "currency", "quantity"]}),
        ("Window", {"fields": ["starts_at", "ends_at", "queue_opens_at"]}),
        ("Limits and rates", {"fields": ["per_user_limit", "rate", "burst", "admission_rate"]}),
        ("Against bots", {"fields": ["units_per_address", "admissions_per_address", "proof_bits"]}),
        ("Status", {"fields": ["status", "went_live_at", "ended_at", "line_drawn"]}),
    ]

    starts = zoned_time("starts_at", "starts")
    ends = zoned_time("ends_at", "ends")
    went_live = zoned_time("went_live_at", "went live at")
    ended = zoned_time("ended_at", "ended at")
    line_opens = zoned_time("queue_opens_at", "line opens at")

    @admin.display(description="line for the start")
    def line_drawn(self, sale: Sale) -> str:
        """The pre-queue's shuffle, as the admitter recorded it (waitingroom/draw.py)."""
        draw = sale.prequeue_draw
        if not draw:
            return "Not drawn yet: everyone in line before the start is shuffled once when it starts."
        drawn_at = local_time(datetime.fromisoformat(str(draw["drawn_at"])))
        return (
            f"{draw['entrants']} shoppers in line before the start, put in a random order at {drawn_at} "
            f"(seed {draw['seed']}, order drawn {str(draw['drawn_digest'])[:12]}…)."
        )

    # --- who may edit what ------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Sale | None = None) -> Any:
        readonly = set(self.get_readonly_fields(request, obj))
        fieldsets = [
            (title, {**options, "fields": [self._shown_as(name, readonly) for name in options["fields"]]})
            for title, options in super().get_fieldsets(request, obj)
            if obj is not None or title != "Status"  # a sale being added is a draft: nothing to show
        ]
        if can_see_all(request.user) and obj is None:
            return [(None, {"fields": ["merchant"]}), *fieldsets]
        return fieldsets

    @staticmethod
    def _shown_as(name: str, readonly: set[str]) -> str:
        zoned = ZONED_TIMES.get(name)
        return zoned if zoned in readonly else name

    def get_readonly_fields(self, request: HttpRequest, obj: Sale | None = None) -> Any:
        readonly = ["status", "went_live_at", "ended_at", "line_drawn"]
        if _locked(obj):
            readonly += services.CONFIG_FIELDS
        return [ZONED_TIMES.get(name, name) for name in readonly]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateTimeField) and formfield is not None:
            # The form reads and shows times in the active zone, which nothing else on it names.
            zone = f"Times are in {timezone.get_current_timezone_name()}."
            formfield.help_text = f"{db_field.help_text} {zone}" if db_field.help_text else zone
            # The admin splits a datetime into a date and a time box under one label, which
            # names only the first: each box says what it is to a screen reader.
            name = str(db_field.verbose_name).capitalize()
            for widget, part in zip(getattr(formfield.widget, "widgets", ()), ("date", "time"), strict=False):
                widget.attrs["aria-label"] = f"{name}: {part}"
        return formfield

    def has_delete_permission(self, request: HttpRequest, obj: Sale | None = None) -> bool:
        return False  # sales are ended, not deleted: orders point at them

    # --- saving through the services ---------------------------------------------

    def save_model(self, request: HttpRequest, obj: Sale, form: forms.ModelForm, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name] for name in services.CONFIG_FIELDS if name in form.cleaned_data
        }
        if change:
            saved = services.sale_update(sale_id=obj.pk, **fields)
        else:
            merchant = form.cleaned_data.get("merchant") or request.user
            saved = services.sale_create(merchant=merchant, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def response_add(self, request: HttpRequest, obj: Sale, post_url_continue: str | None = None) -> Any:
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        # A new sale is a draft; what comes next (Schedule, Go live now) is a button on its page.
        self.message_user(
            request,
            f"Sale “{obj.product_name}” was created as a draft. Schedule it or take it live from here.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:sales_sale_change", args=[obj.pk]))

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    # --- live figures ------------------------------------------------------------

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        sales = list(changelist.result_list)
        try:
            figures = selectors.sale_figures_many(sales=sales)
        except ApplicationError as error:
            messages.warning(request, f"Live figures unavailable: {error.message}")
            figures = {}
        for sale in sales:
            sale.figures = figures.get(sale.pk)
        return changelist

    @admin.display(description="sold")
    def sold_of_quantity(self, sale: Sale) -> str:
        figures = getattr(sale, "figures", None)
        return f"{figures.sold} / {figures.quantity}" if figures else f"? / {sale.quantity}"

    @admin.display(description="orders")
    def persisted(self, sale: Sale) -> Any:
        return sale.figures.persisted_orders if getattr(sale, "figures", None) else "?"

    def render_change_form(
        self, request: HttpRequest, context: dict, *args: Any, obj: Sale | None = None, **kwargs: Any
    ) -> HttpResponse:
        if obj is not None:
            try:
                context["figures"] = selectors.sale_figures(sale=obj)
            except ApplicationError as error:
                context["figures_error"] = error.message
            context["transitions"] = transitions_offered(obj)
            context["can_restock"] = obj.status != SaleStatus.ENDED
            context["restock_form"] = RestockForm()
            if obj.status == SaleStatus.ENDED:
                context["final_report_rows"] = final_report_rows(obj.final_report or {}, obj)
            if _locked(obj):
                # Nothing on a locked sale's form can be saved: offer no button that would try.
                context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    # --- transitions: buttons on the page and actions on the list -----------------------

    def get_urls(self) -> list:
        own = [
            path(
                "<int:sale_id>/transition/<str:action>/",
                self.admin_site.admin_view(self.transition_view),
                name="sales_sale_transition",
            ),
            path(
                "<int:sale_id>/restock/",
                self.admin_site.admin_view(self.restock_view),
                name="sales_sale_restock",
            ),
        ]
        return own + super().get_urls()

    def _own_sale_or_none(self, request: HttpRequest, sale_id: int) -> Sale | None:
        sale = self.get_queryset(request).filter(pk=sale_id).first()
        if sale is None or not self.has_change_permission(request, sale):
            return None
        return sale

    def transition_view(self, request: HttpRequest, sale_id: int, action: str) -> HttpResponse:
        """POST makes the move; GET asks for confirmation of a final one."""
        sale = self._own_sale_or_none(request, sale_id)
        transition = TRANSITION_BUTTONS.get(action)
        if sale is None or transition is None:
            return HttpResponse("Not found", status=404)
        change_url = reverse("admin:sales_sale_change", args=[sale_id])
        if request.method == "GET" and transition.confirmation is not None:
            if sale.status not in services.TRANSITIONS[action][0]:
                status = sale.get_status_display().lower()
                messages.error(
                    request, f"{transition.label}: sale {sale.pk} is {status}, nothing to confirm."
                )
                return HttpResponseRedirect(change_url)
            return self._confirmation_page(request, action, [sale], cancel_url=change_url)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            sale = transition.service(sale_id=sale.pk)
            messages.success(
                request, f"{transition.label}: sale {sale.pk} is now {sale.get_status_display().lower()}."
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(change_url)

    def _confirmation_page(
        self, request: HttpRequest, action: str, sales: list[Sale], *, cancel_url: str, bulk: bool = False
    ) -> HttpResponse:
        """Asks before a final move. One sale: the form posts back to the move's
        own URL. A list action: it posts the selection back to the list with
        post=yes, Django's pattern for confirmed actions."""
        transition = TRANSITION_BUTTONS[action]
        assert transition.confirmation is not None
        if bulk:
            question, yes = f"{transition.bulk_label}?", transition.confirmation.yes_many
        else:
            question, yes = f"{transition.label} {sales[0].product_name}?", transition.confirmation.yes_one
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": question,
            "note": transition.confirmation.note,
            "yes": yes,
            "sales": sales,
            "bulk": bulk,
            "action_name": f"{action}_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
        }
        return TemplateResponse(request, "admin/sales/sale/confirm_transition.html", context)

    def restock_view(self, request: HttpRequest, sale_id: int) -> HttpResponse:
        sale = self._own_sale_or_none(request, sale_id)
        if sale is None:
            return HttpResponse("Not found", status=404)
        form = RestockForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sale = services.sale_restock(sale_id=sale.pk, units=form.cleaned_data["units"])
                messages.success(request, f"Restocked: sale {sale.pk} now offers {sale.quantity} units.")
                return HttpResponseRedirect(reverse("admin:sales_sale_change", args=[sale_id]))
            except ApplicationError as error:
                messages.error(request, error.message)
        context = {
            **self.admin_site.each_context(request),
            "sale": sale,
            "form": form,
            "opts": self.opts,
            "title": f"Restock {sale}",
        }
        return render(request, "admin/sales/sale/restock.html", context)

    def bulk_transition(self, request: HttpRequest, queryset: QuerySet, action: str) -> HttpResponse | None:
        """A list action: the move on each selected sale, each refusal reported.
        A final move first returns the confirmation page (Django shows it)."""
        transition = TRANSITION_BUTTONS[action]
        if transition.confirmation is not None and request.POST.get("post") != "yes":
            return self._confirmation_page(
                request, action, list(queryset), cancel_url=request.get_full_path(), bulk=True
            )
        done, refused = 0, []
        for sale in queryset:
            try:
                transition.service(sale_id=sale.pk)
                done += 1
            except ApplicationError as error:
                refused.append(error.message)
        if done:
            messages.success(request, f"{transition.label}: {done} sale(s).")
        for message in refused:
            messages.error(request, message)
        return None


class SecretShownOnce(MerchantScopedAdmin):
    """Add makes a secret (an API token, a storefront key's secret) that is shown
    once, on the answer to the form itself. Not as a message: messages wait in
    the session (MESSAGE_STORAGE) until the next page, which put the secret in
    plain text in django_session. save_model hands the secret over on the request."""

    secret_warning = "Copy it now: it is shown only on this page, and never again."

    def show_secret(self, request: HttpRequest, title: str, secrets: list[tuple[str, str]]) -> None:
        request.flux_secret_shown = (title, secrets)  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        shown = getattr(request, "flux_secret_shown", None)
        if shown is None:
            return super().response_add(request, obj, post_url_continue)
        title, secrets = shown
        opts = self.model._meta
        # The admin's views are never_cache: the page is kept in no browser or proxy cache.
        return TemplateResponse(
            request,
            "admin/sales/secret_shown.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": opts,
                "secrets": secrets,
                "warning": self.secret_warning,
                "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            },
        )


class MerchantTokenForm(forms.ModelForm):
    class Meta:
        model = MerchantToken
        fields = ["name"]


@admin.register(MerchantToken)
class MerchantTokenAdmin(SecretShownOnce):
    list_display = ["name", "hint", "merchant", "created", "last_used"]
    form = MerchantTokenForm

    created = zoned_time("created_at", "created")
    last_used = zoned_time("last_used_at", "last used")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is issued or revoked, never edited

    def save_model(
        self, request: HttpRequest, obj: MerchantToken, form: forms.ModelForm, change: bool
    ) -> None:
        token, raw = MerchantToken.issue(merchant=request.user, name=form.cleaned_data["name"])
        obj.pk = token.pk
        self.show_secret(request, "Your new API token", [("API token", raw)])


class StorefrontKeyForm(forms.ModelForm):
    class Meta:
        model = StorefrontKey
        fields = ["name"]


@admin.register(StorefrontKey)
class StorefrontKeyAdmin(SecretShownOnce):
    """Storefront keys: created here (the secret shown once), revoked by deleting."""

    list_display = ["name", "key_id", "created"]
    form = StorefrontKeyForm

    created = zoned_time("created_at", "created")

    def get_list_display(self, request: HttpRequest) -> Any:
        # A merchant sees only their own keys: whose they are says something to operators only.
        return [*self.list_display, "merchant"] if can_see_all(request.user) else self.list_display

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key is created or revoked, never edited

    def save_model(
        self, request: HttpRequest, obj: StorefrontKey, form: forms.ModelForm, change: bool
    ) -> None:
        key, secret = storefront_key_create(merchant=request.user, name=form.cleaned_data["name"])
        obj.pk, obj.key_id = key.pk, key.key_id  # what the admin's log and message name
        self.show_secret(request, "Your new storefront key", [("key id", key.key_id), ("secret", secret)])

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ApplicationError as error:  # Redis down: nothing was created
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().delete_view(request, *args, **kwargs)
        except ApplicationError as error:  # Redis down: nothing was revoked
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request: HttpRequest, obj: StorefrontKey) -> None:
        storefront_key_revoke(key=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for key in queryset:
            storefront_key_revoke(key=key)
