"""URL wiring: admin, the APIs, health, /metrics, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView, TemplateView

from dashboard.metrics import metrics
from flux_admin.api import api, api_not_found, compat_api
from flux_admin.health import healthz
from waitingroom.urls import urlpatterns as waitingroom_urls

# The merchant console's names, in the header and the browser tab.
admin.site.site_header = "Flux-Gate"
# No "View site": there is no one shop page; each sale links to its own shopper page.
admin.site.site_url = None
admin.site.site_title = "Flux-Gate"
admin.site.index_title = "Merchant console"
# A merchant has a handful of pages: the always-open navigation column cost the lists
# a fifth of a 1,400 px screen, and the breadcrumbs and Home already lead everywhere.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    # The buy routes are answered in front of Django by the fast lane (flux_admin/wsgi.py,
    # orders/buy/lane.py); Django serves them only when the lane hands a request over.
    path("api/", api.urls),
    re_path(r"^api/(?P<unmatched>[\s\S]*)\Z", api_not_found),  # any character, line breaks too
    # The live dashboard's pages live under /admin/ but are not ModelAdmin views:
    # before the admin's URLs, whose catch-all would send /admin/sales/sale/1/dashboard/
    # to the sale's change page.
    path("", include("dashboard.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("healthz", healthz, name="healthz"),
    *waitingroom_urls,
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # Browsers ask for /favicon.ico whatever the page links; the icon is a static file.
    path("favicon.ico", RedirectView.as_view(url=static("flux/favicon.svg")), name="favicon"),
    path("", compat_api.urls),
]
