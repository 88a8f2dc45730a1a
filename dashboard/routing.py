"""The dashboards' websocket routes, under /ws/ (mounted by flux_admin/routing.py).

Merchants' sockets need the signed-in user: Channels' session and auth
middleware, on these routes only (the shoppers' sockets carry cookies alone)."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from django.urls import path

from dashboard.consumers import OverviewConsumer, SaleDashboardConsumer

websocket_urlpatterns = [
    path("ws/dashboard/sales/<int:sale_id>/", AuthMiddlewareStack(SaleDashboardConsumer.as_asgi())),
    path("ws/dashboard/", AuthMiddlewareStack(OverviewConsumer.as_asgi())),
]
