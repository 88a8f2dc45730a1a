"""The moves on a sale's page and the sale list: a final move (End sale) asks
for confirmation on a page of its own, the others are one click, and Re-arm is
offered only when Redis lost the sale's live state."""

from __future__ import annotations

import pytest
from django.test import Client

from sales import keys, services
from sales.admin import TRANSITION_BUTTONS
from sales.live import live_state
from sales.models import OPEN_STATUSES, SaleStatus
from tests.factories import make_sale
from tests.support.orders import commit_orders_topic_to_end

pytestmark = pytest.mark.django_db


def console(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client: Client, page_url: str) -> str:
    """A page's CSRF token, as the browser would send it back with the form."""
    client.get(page_url)
    return client.cookies["csrftoken"].value


def test_end_sale_asks_first_then_ends(owner) -> None:
    sale = make_sale(owner, live=True, product_name="Camera")
    client = console(owner)
    change_url = f"/admin/sales/sale/{sale.pk}/change/"
    end_url = f"/admin/sales/sale/{sale.pk}/transition/end/"

    page = client.get(change_url).content.decode()
    assert f'<a class="flux-final" href="{end_url}">End sale</a>' in page  # a link, not a form

    question = client.get(end_url)
    assert question.status_code == 200
    text = question.content.decode()
    assert "End sale Camera?" in text
    assert "Ending is final" in text
    assert '<input type="submit" value="Yes, end the sale">' in text
    assert f'<a href="{change_url}" class="button cancel-link">Cancel</a>' in text
    sale.refresh_from_db()
    assert sale.status == SaleStatus.LIVE  # asking changed nothing

    assert client.post(end_url).status_code == 403  # no CSRF token: refused
    token = csrf_token(client, end_url)
    done = client.post(end_url, {"csrfmiddlewaretoken": token})
    assert (done.status_code, done["Location"]) == (302, change_url)
    sale.refresh_from_db()
    assert sale.status == SaleStatus.ENDED


def test_nothing_to_confirm_on_an_ended_sale(owner) -> None:
    sale = services.sale_end(sale_id=make_sale(owner, live=True).pk)
    answer = console(owner).get(f"/admin/sales/sale/{sale.pk}/transition/end/", follow=True)
    assert answer.redirect_chain == [(f"/admin/sales/sale/{sale.pk}/change/", 302)]
    assert "nothing to confirm" in answer.content.decode()


def test_another_merchant_gets_no_confirmation_page(owner, other_merchant) -> None:
    sale = make_sale(owner, live=True)
    assert console(other_merchant).get(f"/admin/sales/sale/{sale.pk}/transition/end/").status_code == 404


def test_other_moves_are_one_click_posts(owner) -> None:
    sale = make_sale(owner, live=True)
    client = console(owner)
    page = client.get(f"/admin/sales/sale/{sale.pk}/change/").content.decode()
    pause_url = f"/admin/sales/sale/{sale.pk}/transition/pause/"
    assert f'<form class="flux-move" method="post" action="{pause_url}">' in page
    assert client.get(pause_url).status_code == 405  # GET never moves a sale

    token = csrf_token(client, f"/admin/sales/sale/{sale.pk}/change/")
    assert client.post(pause_url, {"csrfmiddlewaretoken": token}).status_code == 302
    sale.refresh_from_db()
    assert sale.status == SaleStatus.PAUSED


def test_end_selected_sales_asks_first(owner) -> None:
    first, second = make_sale(owner, live=True), make_sale(owner, live=True)
    client = console(owner)
    token = csrf_token(client, "/admin/sales/sale/")
    selection = {
        "csrfmiddlewaretoken": token,
        "action": "end_selected",
        "_selected_action": [first.pk, second.pk],
    }

    question = client.post("/admin/sales/sale/", selection)
    assert question.status_code == 200
    text = question.content.decode()
    assert "End selected sales?" in text
    assert '<input type="hidden" name="post" value="yes">' in text
    assert '<input type="hidden" name="action" value="end_selected">' in text
    for sale in (first, second):
        assert f'<input type="hidden" name="_selected_action" value="{sale.pk}">' in text
        sale.refresh_from_db()
        assert sale.status == SaleStatus.LIVE

    done = client.post("/admin/sales/sale/", {**selection, "post": "yes"})
    assert done.status_code == 302
    for sale in (first, second):
        sale.refresh_from_db()
        assert sale.status == SaleStatus.ENDED


def test_the_list_actions_come_from_the_one_table(owner) -> None:
    make_sale(owner)  # an empty list offers no actions
    page = console(owner).get("/admin/sales/sale/").content.decode()
    for action, transition in TRANSITION_BUTTONS.items():
        if transition.bulk_label:
            assert f'<option value="{action}_selected">{transition.bulk_label}</option>' in page


def test_pause_selected_needs_no_confirmation(owner) -> None:
    sale = make_sale(owner, live=True)
    client = console(owner)
    token = csrf_token(client, "/admin/sales/sale/")
    answer = client.post(
        "/admin/sales/sale/",
        {"csrfmiddlewaretoken": token, "action": "pause_selected", "_selected_action": [sale.pk]},
    )
    assert answer.status_code == 302
    sale.refresh_from_db()
    assert sale.status == SaleStatus.PAUSED


def rearm_offered(client: Client, sale_id: int) -> bool:
    page = client.get(f"/admin/sales/sale/{sale_id}/change/").content.decode()
    return f"/admin/sales/sale/{sale_id}/transition/rearm/" in page


def test_rearm_is_offered_only_when_redis_lost_the_sale(owner, redis_conn) -> None:
    # The selector's statuses are the ones Re-arm may start from.
    assert services.TRANSITIONS["rearm"][0] == set(OPEN_STATUSES)
    draft = make_sale(owner)
    sale = make_sale(owner, live=True)
    client = console(owner)
    assert not rearm_offered(client, draft.pk)  # a draft never had live state
    assert not rearm_offered(client, sale.pk)  # the state is there: nothing to rebuild

    redis_conn.delete(*keys.all_keys(sale.pk))  # Redis lost the sale
    assert rearm_offered(client, sale.pk)
    commit_orders_topic_to_end()  # the order consumer has caught up: re-arm may rebuild
    token = csrf_token(client, f"/admin/sales/sale/{sale.pk}/change/")
    client.post(f"/admin/sales/sale/{sale.pk}/transition/rearm/", {"csrfmiddlewaretoken": token})
    assert live_state(sale.pk).remaining == 100
    assert not rearm_offered(client, sale.pk)


def test_rearm_is_not_offered_on_an_ended_sale(owner, redis_conn) -> None:
    sale = services.sale_end(sale_id=make_sale(owner, live=True).pk)
    redis_conn.delete(*keys.all_keys(sale.pk))
    assert not rearm_offered(console(owner), sale.pk)
