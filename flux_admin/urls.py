"""URL wiring: admin, the APIs, health, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView, TemplateView

from flux_admin.api import api, compat_api
from flux_admin.health import healthz
from waitingroom.views import waiting_room

# The merchant console's names, in the header and the browser tab.
admin.site.site_header = "Flux-Gate"
admin.site.site_title = "Flux-Gate"
admin.site.index_title = "Merchant console"
# A merchant has a handful of pages: the always-open navigation column cost the lists
# a fifth of a 1,400 px screen, and the breadcrumbs and Home already lead everywhere.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("api/", api.urls),  # first: the buy API is the hot path, resolved in this order
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("waiting-room/<int:sale_id>/", waiting_room, name="waiting-room"),
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # Browsers ask for /favicon.ico whatever the page links; the icon is a static file.
    path("favicon.ico", RedirectView.as_view(url=static("flux/favicon.svg")), name="favicon"),
    path("", compat_api.urls),
]
