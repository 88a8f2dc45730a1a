"""A sale's pages in the merchant console: branded Flux-Gate, a new sale opens
on its own page, a locked sale offers nothing to save, times name their zone,
and an ended sale shows its final report."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from orders.reconcile import final_reports_store
from sales import services
from sales.admin import final_report_rows
from sales.models import MerchantToken, Sale, SaleStatus
from tests.factories import ADMIN_SALE_FORM, make_sale

pytestmark = pytest.mark.django_db

SAVE_BUTTONS = ('name="_save"', 'name="_continue"', 'name="_addanother"')


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def title_of(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


def test_the_console_is_branded_flux_gate(owner) -> None:
    sign_in = Client().get("/admin/login/").content.decode()
    assert title_of(sign_in) == "Log in | Flux-Gate"
    assert '<div id="site-name"><a href="/admin/">Flux-Gate</a></div>' in sign_in

    index = console(owner).get("/admin/").content.decode()
    assert title_of(index) == "Merchant console | Flux-Gate"
    assert "<h1>Merchant console</h1>" in index
    assert "Django" not in title_of(index)
    assert "Django administration" not in index
    assert '<link rel="icon" href="/static/flux/favicon.svg" type="image/svg+xml">' in index
    # Pages the sale admin renders itself (restock) carry the brand too.
    sale = make_sale(owner)
    restock = console(owner).get(f"/admin/sales/sale/{sale.pk}/restock/").content.decode()
    assert title_of(restock).endswith("| Flux-Gate")


def test_adding_a_sale_lands_on_its_page(owner) -> None:
    client = console(owner)
    added = client.post(
        "/admin/sales/sale/add/",
        {**ADMIN_SALE_FORM, "_save": "Save"},
        follow=True,
    )
    sale = owner.sales.get(sku="console-1")
    assert added.redirect_chain == [(f"/admin/sales/sale/{sale.pk}/change/", 302)]
    page = added.content.decode()
    assert "Sale “Console” was created as a draft" in page
    assert f'action="/admin/sales/sale/{sale.pk}/transition/schedule/"' in page  # its buttons are here


def test_the_add_form_names_the_time_zone(owner) -> None:
    page = console(owner).get("/admin/sales/sale/add/").content.decode()
    assert page.count("Times are in UTC.") == 3  # starts at, ends at, line opens at
    assert 'name="status"' not in page and "went live at" not in page.lower()


def test_a_locked_sale_offers_no_save_buttons(owner) -> None:
    draft = make_sale(owner)
    live = make_sale(owner, live=True)
    ended = services.sale_end(sale_id=make_sale(owner, live=True).pk)
    client = console(owner)

    draft_page = client.get(f"/admin/sales/sale/{draft.pk}/change/").content.decode()
    assert all(button in draft_page for button in SAVE_BUTTONS)
    for locked in (live, ended):
        page = client.get(f"/admin/sales/sale/{locked.pk}/change/").content.decode()
        assert not any(button in page for button in SAVE_BUTTONS), locked.status
        assert 'name="product_name"' not in page  # read-only, nothing to submit


def test_times_show_their_zone(owner) -> None:
    starts = datetime(2030, 12, 1, 10, 0, tzinfo=UTC)
    ends = datetime(2030, 12, 1, 10, 15, tzinfo=UTC)
    make_sale(owner, starts_at=starts, ends_at=ends, product_name="Zoned")
    client = console(owner)

    listing = client.get("/admin/sales/sale/").content.decode()
    assert "2030-12-01 10:00 UTC" in listing and "2030-12-01 10:15 UTC" in listing

    live = make_sale(owner, live=True)
    page = client.get(f"/admin/sales/sale/{live.pk}/change/").content.decode()
    went_live = live.went_live_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f'<div class="readonly">{went_live}</div>' in page
    assert f'<div class="readonly">{live.ends_at.strftime("%Y-%m-%d %H:%M UTC")}</div>' in page

    token, _ = MerchantToken.issue(merchant=owner, name="shop")
    tokens = client.get("/admin/sales/merchanttoken/").content.decode()
    assert f'<td class="field-created">{token.created_at.strftime("%Y-%m-%d %H:%M UTC")}</td>' in tokens


def test_the_sale_list_merges_sold_and_quantity(owner) -> None:
    make_sale(owner, live=True, quantity=40)
    listing = console(owner).get("/admin/sales/sale/").content.decode()
    assert ">Sold<" in listing
    assert '<td class="field-sold_of_quantity">0 / 40</td>' in listing


def test_an_ended_sale_shows_its_final_report(owner) -> None:
    sale = services.sale_end(sale_id=make_sale(owner, live=True, quantity=12).pk)
    client = console(owner)

    pending = client.get(f"/admin/sales/sale/{sale.pk}/change/").content.decode()
    assert "Final report pending: the books have not settled yet." in pending
    assert 'id="final-report"' not in pending  # what a page waiting for the report polls for

    assert final_reports_store() == [sale.pk]  # nothing was sold: the books settle at once
    report = client.get(f"/admin/sales/sale/{sale.pk}/change/").content.decode()
    assert "<h2>Final report</h2>" in report and '<table id="final-report">' in report
    assert "Final report pending" not in report
    assert '<tr><th scope="row">Units offered</th><td>12</td></tr>' in report
    assert '<tr><th scope="row">Units sold</th><td>0</td></tr>' in report
    assert '<tr><th scope="row">Sold but not in a saved order (0 once settled)</th><td>0</td></tr>' in report
    assert '<tr><th scope="row">Revenue</th><td>0.00 EUR</td></tr>' in report
    assert '<tr><th scope="row">Books settled</th><td>yes</td></tr>' in report


def test_a_live_sale_shows_no_final_report(owner) -> None:
    sale = make_sale(owner, live=True)
    page = console(owner).get(f"/admin/sales/sale/{sale.pk}/change/").content.decode()
    assert "Final report" not in page
    assert Sale.objects.get(pk=sale.pk).status == SaleStatus.LIVE


def test_the_final_report_adds_the_revenue_of_the_saved_orders(owner) -> None:
    sale = make_sale(owner, unit_price="249.50", currency="USD")
    rows = dict(final_report_rows({"quantity": 10, "sold": 3, "units_persisted": 3}, sale))
    assert rows["Revenue"] == "748.50 USD"  # units in saved orders × the price
    assert "Revenue" not in dict(
        final_report_rows({"quantity": 10}, sale)
    )  # not settled: no figure to multiply
