"""The real PostgreSQL commits and rolls back whole transactions."""

from __future__ import annotations

import pytest
from django.db import connection, transaction


@pytest.mark.django_db(transaction=True)
def test_transaction_commits_or_rolls_back_as_a_whole() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS probe (id int PRIMARY KEY)")
        cursor.execute("TRUNCATE probe")

    with pytest.raises(RuntimeError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO probe VALUES (1), (2)")
        raise RuntimeError("abort")

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO probe VALUES (3)")

    with connection.cursor() as cursor:
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM probe")
        assert cursor.fetchone()[0] == [3]
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]
        cursor.execute("DROP TABLE probe")
