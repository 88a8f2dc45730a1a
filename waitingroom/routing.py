"""The waiting room's websocket routes, under /ws/ (mounted by flux_admin/routing.py)."""

from __future__ import annotations

from django.urls import path

from waitingroom.consumers import SaleWatchConsumer, WaitingRoomConsumer

websocket_urlpatterns = [
    path("ws/waiting-room/<int:sale_id>/", WaitingRoomConsumer.as_asgi()),
    path("ws/sales/<int:sale_id>/", SaleWatchConsumer.as_asgi()),
]
