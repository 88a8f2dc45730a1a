"""The dashboard's pages in the merchant console: a sale's live dashboard and the
overview of the user's live sales. Thin: who may see what is dashboard/access.py,
the figures arrive over the websocket (dashboard/consumers.py), the controls call
the merchant API (/api/v1/sales/<id>/...) with the admin's session and CSRF token."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.access import watchable_live_sales, watchable_sale
from sales.models import Sale


def sale_dashboard(request: HttpRequest, sale_id: int) -> HttpResponse:
    sale = watchable_sale(user=request.user, sale_id=sale_id)
    if sale is None:
        raise Http404("No such sale.")  # another merchant's sale, like a missing one
    context = {
        **admin.site.each_context(request),
        "title": f"Live dashboard: {sale.product_name}",
        "sale": sale,
        "opts": Sale._meta,
    }
    return render(request, "dashboard/sale.html", context)


def overview(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Live dashboard",
        "sales": watchable_live_sales(user=request.user),
    }
    return render(request, "dashboard/overview.html", context)
