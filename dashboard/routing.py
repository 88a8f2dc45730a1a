"""The dashboards' websocket routes, under /ws/ (mounted by flux_admin/routing.py)."""

from __future__ import annotations

from django.urls import path

from dashboard.consumers import OverviewConsumer, SaleDashboardConsumer

websocket_urlpatterns = [
    path("ws/dashboard/sales/<int:sale_id>/", SaleDashboardConsumer.as_asgi()),
    path("ws/dashboard/", OverviewConsumer.as_asgi()),
]
