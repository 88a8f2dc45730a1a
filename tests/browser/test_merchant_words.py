"""The merchant's pages speak a merchant's words (issue 21): a sale's page says what
shoppers see and links to their page, the engine's terms are in the help texts, the
console has no "View site" page of two links, and the dashboard's clock is in UTC
like every other time in the console."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.factories import make_sale
from tests.support.browser import sign_in
from tests.support.product import Product


def test_a_sale_page_in_the_console_speaks_a_merchants_words(
    site: Page, product: Product, owner: Any
) -> None:
    draft = make_sale(owner, product_name="Draft lamp")
    live = make_sale(owner, live=True, product_name="Live lamp", quantity=7)
    sign_in(site, product, owner.username)
    expect(site.get_by_role("link", name="View site")).to_have_count(0)

    site.goto(f"{product.url}/admin/sales/sale/{draft.pk}/change/")
    expect(site.locator(".flux-figures")).to_contain_text("not on sale yet (a draft: shoppers cannot see it)")
    expect(site.locator("#shopper-page")).to_have_count(0)  # drafts are not public
    expect(site.locator("body")).not_to_contain_text("Redis")
    expect(site.get_by_label("Buy requests per second")).to_be_visible()
    expect(site.locator(".field-rate .help")).to_contain_text("token bucket")  # the engine's term, as help

    site.goto(f"{product.url}/admin/sales/sale/{live.pk}/change/")
    expect(site.locator(".flux-figures")).to_contain_text("7 units offered · 0 sold · 7 left")
    expect(site.locator(".flux-figures")).to_contain_text("shoppers see it as live")
    site.click("#shopper-page")
    site.wait_for_url(f"{product.url}/sales/{live.pk}/")
    expect(site.locator("h1")).to_have_text("Live lamp")

    site.goto(f"{product.url}/admin/sales/sale/{live.pk}/dashboard/")
    expect(site.locator("#dash-updated")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d UTC$"))
    expect(site.get_by_label("Shoppers let in /s")).to_be_visible()


def test_every_box_of_the_add_form_has_a_name(site: Page, product: Product, owner: Any) -> None:
    sign_in(site, product, owner.username)
    site.goto(f"{product.url}/admin/sales/sale/add/")
    for field in ("Starts at", "Ends at", "Line opens at"):
        for part in ("date", "time"):
            expect(site.get_by_label(f"{field}: {part}", exact=True)).to_be_visible()
    # Every input a person types into is named, by a label or its own aria-label.
    unnamed = site.evaluate(
        """() => [...document.querySelectorAll('#sale_form input:not([type=hidden]):not([type=submit]), #sale_form select')]
              .filter((el) => !el.labels.length && !el.getAttribute('aria-label')).map((el) => el.name)"""
    )
    assert unnamed == []
