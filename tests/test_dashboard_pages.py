"""Who reaches the dashboard's pages (dashboard/views.py): the anonymous are sent
to the console's sign-in, another merchant's sale is "not found" like a missing
one, an operator sees every merchant's; the overview lists only the user's live
sales. (What the pages do is tested in the browser: tests/browser/test_dashboard.py.)"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_sale

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_anonymous_are_sent_to_sign_in(owner) -> None:
    sale = make_sale(owner, live=True)
    for path in (f"/admin/sales/sale/{sale.pk}/dashboard/", "/admin/dashboard/"):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_sale_dashboard_is_its_merchants_and_the_operators(owner, other_merchant, operator) -> None:
    sale = make_sale(owner, live=True, product_name="Mine")
    path = f"/admin/sales/sale/{sale.pk}/dashboard/"
    assert signed_in(owner).get(path).status_code == 200
    assert signed_in(operator).get(path).status_code == 200
    assert signed_in(other_merchant).get(path).status_code == 404
    assert signed_in(owner).get("/admin/sales/sale/987654321/dashboard/").status_code == 404


def test_the_overview_lists_the_users_live_sales(owner, other_merchant, operator) -> None:
    make_sale(owner, live=True, product_name="Mine, live")
    make_sale(owner, product_name="Mine, a draft")
    make_sale(other_merchant, live=True, product_name="Theirs, live")
    page = signed_in(owner).get("/admin/dashboard/").content.decode()
    assert "Mine, live" in page and "a draft" not in page and "Theirs" not in page
    page = signed_in(operator).get("/admin/dashboard/").content.decode()
    assert "Mine, live" in page and "Theirs, live" in page
