"""Merchants may read the order anomalies of their own sales."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Merchants")
    group.permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_orderanomaly"))


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_sale_final_report_sale_oversold_flag_and_more"), ("orders", "0002_orderanomaly")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
