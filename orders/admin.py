"""Merchants read their sales' orders, filter them by sale and export them as
CSV; nobody edits them by hand."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse

from orders.models import Order, OrderAnomaly
from sales import selectors
from sales.admin import zoned_time
from sales.merchants import MerchantScopedAdmin


class ReadOnlyAdmin(MerchantScopedAdmin):
    """Written by the order pipeline only: nobody adds, edits or deletes by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OwnSaleFilter(admin.SimpleListFilter):
    """Rows of one sale, choosing among the sales the user may see (Django's
    own filter on the foreign key would list every merchant's sales)."""

    title = "sale"
    parameter_name = "sale__id__exact"  # what the "Orders" link on a sale's page sends

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[int, str]]:
        return [(sale.pk, str(sale)) for sale in selectors.sale_list(user=request.user)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        # The rows are already the user's own (MerchantScopedAdmin): another
        # merchant's sale id just finds nothing.
        if self.value() is None:
            return queryset
        sale_id = str(self.value())  # a lookup's own value (an int) when Django counts facets
        if not re.fullmatch(r"[0-9]+", sale_id):
            # What Django's own filters do with a bad value: the list says so (?e=1).
            raise IncorrectLookupParameters(f"sale id {sale_id!r} is not a number")
        return queryset.filter(sale_id=int(sale_id))


class _Echo:
    """A file for csv.writer that hands each written row back, so the rows can
    be streamed instead of built up in memory."""

    def write(self, value: str) -> str:
        return value


CSV_HEADER = [
    "order_id",
    "sale_id",
    "sku",
    "user_id",
    "quantity",
    "unit_price",
    "currency",
    "accepted_at",
    "persisted_at",
    "status",
]


def _spreadsheet_safe(text: str) -> str:
    """Shopper-supplied text starting like a formula is opened by spreadsheets
    as one; a leading apostrophe keeps it text (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def orders_csv_lines(orders: QuerySet[Order]) -> Iterator[str]:
    """The header, then one line per order, read from PostgreSQL in chunks.
    Times are ISO 8601 with their offset, for machines rather than people."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for order in orders.select_related("sale").iterator(chunk_size=2000):
        yield writer.writerow(
            [
                order.order_id,
                order.sale_id,
                _spreadsheet_safe(order.sale.sku),
                _spreadsheet_safe(order.user_id),
                order.quantity,
                order.unit_price,
                order.sale.currency,
                order.accepted_at.isoformat(),
                order.persisted_at.isoformat(),
                order.status,
            ]
        )


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    merchant_path = "sale__merchant"
    # Fits a 1,400 px window beside the filters; the order's page has the rest.
    list_display = ["order_id", "sale_label", "user_id", "quantity", "unit_price", "accepted"]
    list_filter = [OwnSaleFilter]
    search_fields = ["order_id", "user_id", "sale__sku"]
    list_select_related = ["sale"]
    change_list_template = "admin/orders/order/change_list.html"
    fields = [
        "order_id",
        "sale",
        "user_id",
        "quantity",
        "unit_price",
        "status",
        "accepted",
        "persisted",
        "kafka_partition",
        "kafka_offset",
    ]
    readonly_fields = ["accepted", "persisted"]

    accepted = zoned_time("accepted_at", "accepted")
    persisted = zoned_time("persisted_at", "persisted")

    @admin.display(description="sale", ordering="sale")
    def sale_label(self, order: Order) -> str:
        return f"{order.sale.sku} #{order.sale_id}"

    def get_urls(self) -> list:
        export = path(
            "export.csv", self.admin_site.admin_view(self.export_csv_view), name="orders_order_export"
        )
        return [export, *super().get_urls()]

    def export_csv_view(self, request: HttpRequest) -> HttpResponse:
        """The list as it is filtered and searched now (the same query string),
        every page of it, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            # The list's own query: the merchant's rows, then its filters, search and order.
            orders = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:orders_order_changelist") + "?e=1")
        sale_id = request.GET.get(OwnSaleFilter.parameter_name, "")
        filename = f"orders-sale-{sale_id}.csv" if sale_id else "orders.csv"  # checked by the filter
        response = StreamingHttpResponse(orders_csv_lines(orders), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@admin.register(OrderAnomaly)
class OrderAnomalyAdmin(ReadOnlyAdmin):
    """Orders the consumer refused because they would oversell. None, in a correct system."""

    merchant_path = "sale__merchant"
    list_display = ["order_id", "sale", "reason", "detected"]
    list_filter = [OwnSaleFilter]
    list_select_related = ["sale"]
    fields = ["order_id", "sale", "reason", "message", "detected"]
    readonly_fields = ["detected"]

    detected = zoned_time("detected_at", "detected")
