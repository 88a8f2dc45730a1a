"""URL wiring: admin, the APIs, health, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from flux_admin.api import api, compat_api
from flux_admin.health import healthz
from waitingroom.views import waiting_room

urlpatterns = [
    path("api/", api.urls),  # first: the buy API is the hot path, resolved in this order
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("waiting-room/<int:sale_id>/", waiting_room, name="waiting-room"),
    path("", compat_api.urls),
]
