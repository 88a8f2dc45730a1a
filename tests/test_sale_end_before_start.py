"""A scheduled sale can be ended before it starts; a database constraint that
refuses a row is reported as what it is, not as an SKU clash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from infra.errors import ApplicationError
from sales import services
from sales.live import live_state
from sales.models import Sale, SaleStatus
from tests.factories import api_client, make_sale

pytestmark = pytest.mark.django_db


def test_a_scheduled_sale_ends_before_its_start(owner) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    services.sale_schedule(sale_id=sale.pk)

    response = api_client(owner).post(f"/api/v1/sales/{sale.pk}/end")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ended"
    ended = Sale.objects.get(pk=sale.pk)
    assert ended.status == SaleStatus.ENDED and ended.ended_at is not None
    assert live_state(sale.pk).status == "ended"


def test_a_draft_with_a_future_start_ends_too(owner) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(days=1), ends_at=None)
    assert services.sale_end(sale_id=sale.pk).status == SaleStatus.ENDED


def test_the_end_after_start_constraint_is_named_as_such(owner) -> None:
    """Past the model's checks (a direct update), the database's own refusal is
    mapped by the constraint's name."""
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))

    def prepare(row: Sale) -> None:
        row.ends_at = row.starts_at - timedelta(minutes=1)

    with pytest.raises(ApplicationError) as refused:
        services._transition(sale.pk, "schedule", prepare=prepare)
    assert refused.value.code == "invalid"
    assert "ends_at" in refused.value.fields
    assert "SKU" not in refused.value.message
