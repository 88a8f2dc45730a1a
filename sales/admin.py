"""Merchant pages: each merchant sees and changes only their own sales; superusers
(platform operators) see all. Every change goes through sales.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from flux_admin.errors import ApplicationError
from sales import selectors, services
from sales.models import MerchantToken, Sale, SaleStatus


class MerchantScopedAdmin(admin.ModelAdmin):
    """Rows belong to a merchant through ``merchant_path``; others are invisible."""

    merchant_path = "merchant"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if selectors.can_see_all(request.user):
            return queryset
        return queryset.filter(**{self.merchant_path: request.user})

    def get_list_filter(self, request: HttpRequest) -> Any:
        base = list(super().get_list_filter(request))
        return [self.merchant_path, *base] if selectors.can_see_all(request.user) else base


# Buttons on a sale's page: action -> (label, service)
TRANSITION_BUTTONS: dict[str, tuple[str, Callable[..., Sale]]] = {
    "schedule": ("Schedule", services.sale_schedule),
    "go_live": ("Go live now", services.sale_go_live),
    "pause": ("Pause", services.sale_pause),
    "resume": ("Resume", services.sale_resume),
    "end": ("End sale", services.sale_end),
    "rearm": ("Re-arm", services.sale_rearm),
}


class RestockForm(forms.Form):
    units = forms.IntegerField(min_value=1, max_value=10_000_000, label="Units to add")


@admin.register(Sale)
class SaleAdmin(MerchantScopedAdmin):
    list_display = [
        "id",
        "product_name",
        "sku",
        "status",
        "quantity",
        "sold",
        "remaining",
        "persisted",
        "starts_at",
        "ends_at",
    ]
    list_display_links = ["id", "product_name"]
    list_filter = ["status"]
    search_fields = ["product_name", "sku"]
    actions = ["schedule_selected", "go_live_selected", "pause_selected", "resume_selected", "end_selected"]
    change_form_template = "admin/sales/sale/change_form.html"
    fieldsets = [
        (None, {"fields": ["product_name", "sku", "unit_price", "currency", "quantity"]}),
        ("Window", {"fields": ["starts_at", "ends_at"]}),
        ("Limits and rates", {"fields": ["per_user_limit", "rate", "burst", "admission_rate"]}),
        ("Status", {"fields": ["status", "went_live_at", "ended_at"]}),
    ]

    # --- who may edit what ------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Sale | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if selectors.can_see_all(request.user) and obj is None:
            return [(None, {"fields": ["merchant"]}), *fieldsets]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Sale | None = None) -> Any:
        locked = ["status", "went_live_at", "ended_at"]
        if obj is not None and obj.status not in services.EDITABLE_STATUSES:
            # Once live, the definition is fixed; units are added with Restock.
            return [*locked, *services.CONFIG_FIELDS]
        return locked

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
    def sold(self, sale: Sale) -> Any:
        return sale.figures.sold if getattr(sale, "figures", None) else "?"

    @admin.display(description="remaining")
    def remaining(self, sale: Sale) -> Any:
        return sale.figures.remaining if getattr(sale, "figures", None) else "?"

    @admin.display(description="persisted orders")
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
            allowed = [
                (action, label)
                for action, (label, _) in TRANSITION_BUTTONS.items()
                if obj.status in services.TRANSITIONS[action][0]
            ]
            context["transitions"] = allowed
            context["can_restock"] = obj.status != SaleStatus.ENDED
            context["restock_form"] = RestockForm()
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
        sale = self._own_sale_or_none(request, sale_id)
        if request.method != "POST" or sale is None or action not in TRANSITION_BUTTONS:
            return HttpResponse("Not found", status=404)
        label, service = TRANSITION_BUTTONS[action]
        try:
            sale = service(sale_id=sale.pk)
            messages.success(request, f"{label}: sale {sale.pk} is now {sale.get_status_display().lower()}.")
        except ApplicationError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(reverse("admin:sales_sale_change", args=[sale_id]))

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

    def _bulk(self, request: HttpRequest, queryset: QuerySet, action: str) -> None:
        label, service = TRANSITION_BUTTONS[action]
        done, refused = 0, []
        for sale in queryset:
            try:
                service(sale_id=sale.pk)
                done += 1
            except ApplicationError as error:
                refused.append(error.message)
        if done:
            messages.success(request, f"{label}: {done} sale(s).")
        for message in refused:
            messages.error(request, message)

    @admin.action(description="Schedule selected sales")
    def schedule_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, "schedule")

    @admin.action(description="Go live now")
    def go_live_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, "go_live")

    @admin.action(description="Pause selected sales")
    def pause_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, "pause")

    @admin.action(description="Resume selected sales")
    def resume_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, "resume")

    @admin.action(description="End selected sales")
    def end_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, "end")


class MerchantTokenForm(forms.ModelForm):
    class Meta:
        model = MerchantToken
        fields = ["name"]


@admin.register(MerchantToken)
class MerchantTokenAdmin(MerchantScopedAdmin):
    list_display = ["name", "hint", "merchant", "created_at", "last_used_at"]
    form = MerchantTokenForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is issued or revoked, never edited

    def save_model(
        self, request: HttpRequest, obj: MerchantToken, form: forms.ModelForm, change: bool
    ) -> None:
        token, raw = MerchantToken.issue(merchant=request.user, name=form.cleaned_data["name"])
        obj.pk = token.pk
        messages.warning(request, f"Your new API token (shown only now, copy it): {raw}")
