"""Merchants read their sales' orders; nobody edits them by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders.models import Order, OrderAnomaly
from sales.admin import MerchantScopedAdmin


class ReadOnlyAdmin(MerchantScopedAdmin):
    """Written by the order pipeline only: nobody adds, edits or deletes by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    merchant_path = "sale__merchant"
    list_display = [
        "order_id",
        "sale",
        "user_id",
        "quantity",
        "unit_price",
        "accepted_at",
        "persisted_at",
        "status",
    ]
    list_filter = ["status"]
    search_fields = ["order_id", "user_id", "sale__sku"]
    list_select_related = ["sale"]


@admin.register(OrderAnomaly)
class OrderAnomalyAdmin(ReadOnlyAdmin):
    """Orders the consumer refused because they would oversell. None, in a correct system."""

    merchant_path = "sale__merchant"
    list_display = ["order_id", "sale", "reason", "detected_at"]
    list_select_related = ["sale"]
