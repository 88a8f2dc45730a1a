"""Order.sale loses its own index: (sale, user_id) serves every lookup by sale, and
each persisted order paid for one more B-tree insert (docs/BENCHMARKS.md, issue 20).

Only the index is dropped. Django's AlterField would also drop and re-add the foreign
key, which re-checks every row of the table under lock."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "orders_order_sale_id_eeb1c28d"  # the name Django gave it in 0001_initial


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_alter_orderanomaly_options"),
        ("sales", "0008_sku_unique_per_merchant"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="sale",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="sales.sale",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "orders_order" ("sale_id")',
                ),
            ],
        ),
    ]
