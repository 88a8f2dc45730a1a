"""The dashboard's pages, inside the merchant console (mounted by flux_admin/urls.py
before the admin's own URLs). admin_view: signed-in staff only, else the login page."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(views.overview), name="overview"),
    path(
        "admin/sales/sale/<int:sale_id>/dashboard/",
        admin.site.admin_view(views.sale_dashboard),
        name="sale",
    ),
]
