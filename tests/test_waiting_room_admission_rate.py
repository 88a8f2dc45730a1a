"""The merchant's admission rate does what it says, and can be changed while the
sale runs (with the buy rate and burst): the next tick admits at the new rate.
Nothing else of a running sale's definition can be edited."""

from __future__ import annotations

import pytest

from infra.errors import ApplicationError
from sales import services
from sales.live import live_state
from tests.factories import api_client, make_sale
from tests.support.queue import redis_now_ms
from waitingroom.queue import queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db


def test_a_new_admission_rate_applies_at_the_next_tick(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=2)
    start = redis_now_ms(redis_conn)
    for n in range(100):
        queue_join(sale_id=sale.pk, shopper=f"s{n}", now_ms=start)
        queue_present(sale_id=sale.pk, shopper=f"s{n}")
    queue_admit(sale_id=sale.pk, now_ms=start)
    assert queue_admit(sale_id=sale.pk, now_ms=start + 1000).admitted == 2

    services.sale_set_rates(sale_id=sale.pk, admission_rate=20)
    figures = queue_admit(sale_id=sale.pk, now_ms=start + 2000)
    assert (figures.admitted, figures.admission_rate) == (20, 20)


def test_a_running_sales_rates_are_editable_through_the_api(owner) -> None:
    sale = make_sale(owner, live=True, admission_rate=2, rate=100, burst=200)
    client = api_client(owner)

    response = client.patch(
        f"/api/v1/sales/{sale.pk}",
        {"admission_rate": 8, "rate": 50, "burst": 60},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["admission_rate"], response.json()["rate"]) == (8, 50)
    state = live_state(sale.pk)
    assert (state.admission_rate, state.rate, state.burst) == (8, 50, 60)

    services.sale_pause(sale_id=sale.pk)  # paused, its rates still change (for when it resumes)
    assert (
        client.patch(
            f"/api/v1/sales/{sale.pk}", {"admission_rate": 9}, content_type="application/json"
        ).status_code
        == 200
    )
    assert live_state(sale.pk).admission_rate == 9


def test_nothing_else_of_a_running_sale_is_editable(owner) -> None:
    sale = make_sale(owner, live=True, quantity=10, admission_rate=2)
    client = api_client(owner)
    response = client.patch(
        f"/api/v1/sales/{sale.pk}", {"admission_rate": 5, "quantity": 5}, content_type="application/json"
    )
    assert (response.status_code, response.json()["status"]) == (409, "invalid_transition")
    assert live_state(sale.pk).admission_rate == 2

    ended = services.sale_end(sale_id=sale.pk)
    response = client.patch(
        f"/api/v1/sales/{ended.pk}", {"admission_rate": 5}, content_type="application/json"
    )
    assert response.status_code == 409


def test_a_rate_out_of_bounds_is_refused(owner) -> None:
    sale = make_sale(owner, live=True, admission_rate=2)
    with pytest.raises(ApplicationError) as refused:
        services.sale_set_rates(sale_id=sale.pk, admission_rate=0)
    assert refused.value.code == "invalid"
    assert live_state(sale.pk).admission_rate == 2
