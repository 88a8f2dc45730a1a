"""Merchants may create, list and revoke (delete) their own storefront keys."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["add_storefrontkey", "view_storefrontkey", "delete_storefrontkey"]


def grant(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Merchants")
    for codename in CODENAMES:
        group.permissions.add(Permission.objects.get(content_type__app_label="sales", codename=codename))


class Migration(migrations.Migration):
    dependencies = [("sales", "0005_storefront_key")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
