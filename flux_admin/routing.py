"""Websocket routes: each app's routing.py, mounted under /ws/ by flux_admin/asgi.py."""

from __future__ import annotations

from dashboard.routing import websocket_urlpatterns as dashboard_routes
from waitingroom.routing import websocket_urlpatterns as waitingroom_routes

websocket_urlpatterns: list = [*waitingroom_routes, *dashboard_routes]
