"""The waiting room's websocket routes, under /ws/ (mounted by flux_admin/routing.py).

Shoppers' sockets read one cookie (fg_shopper) and nothing of Django's session
or user: CookieMiddleware only. (Channels' session middleware also wraps every
message the socket sends, and these sockets send one a second each, thousands
of them per process.)"""

from __future__ import annotations

from channels.sessions import CookieMiddleware
from django.urls import path

from waitingroom.consumers import SaleWatchConsumer, WaitingRoomConsumer

websocket_urlpatterns = [
    path("ws/waiting-room/<int:sale_id>/", CookieMiddleware(WaitingRoomConsumer.as_asgi())),
    path("ws/sales/<int:sale_id>/", CookieMiddleware(SaleWatchConsumer.as_asgi())),
]
