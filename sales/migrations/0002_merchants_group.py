"""The Merchants group: what a merchant may do in the admin pages (rows are
further scoped to their own sales by sales.admin)."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

MERCHANT_PERMISSIONS = [
    ("sales", "add_sale"),
    ("sales", "change_sale"),
    ("sales", "view_sale"),
    ("sales", "add_merchanttoken"),
    ("sales", "view_merchanttoken"),
    ("sales", "delete_merchanttoken"),
    ("orders", "view_order"),
]


def create_group(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Merchants")
    for app_label, codename in MERCHANT_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
