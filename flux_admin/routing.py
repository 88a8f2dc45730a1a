"""Websocket routes: each app's routing.py, mounted under /ws/ by flux_admin/asgi.py."""

from __future__ import annotations

from django.urls import re_path

from dashboard.routing import websocket_urlpatterns as dashboard_routes
from flux_admin.sockets import refused_socket
from waitingroom.routing import websocket_urlpatterns as waitingroom_routes

# Last, a path no other route matches: closed with 4404, not a 500 and a traceback.
websocket_urlpatterns: list = [*waitingroom_routes, *dashboard_routes, re_path(r"", refused_socket)]
