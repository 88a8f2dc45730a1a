"""URL wiring: admin, the APIs, health, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from flux_admin.api import api, compat_api
from flux_admin.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("", compat_api.urls),
]
