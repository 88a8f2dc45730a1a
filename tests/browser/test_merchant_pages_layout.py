"""The merchant's pages as they look: branded Flux-Gate with its icon, `/` leads
somewhere, and the lists fit a 1,400 px screen and a phone without the page
scrolling sideways."""

from __future__ import annotations

import os
from typing import Any

from playwright.sync_api import Page, expect

from tests.factories import make_sale
from tests.support.browser import sign_in
from tests.support.product import Product
from tests.support.shoppers import storefront

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
# FLUX_SCREENSHOTS=folder keeps a picture of each page for a person to look at.
SCREENSHOTS = os.environ.get("FLUX_SCREENSHOTS")


def scrolls_sideways(page: Page, selector: str = "html") -> bool:
    return page.eval_on_selector(selector, "e => e.scrollWidth > e.clientWidth + 1")


def picture(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_home_leads_to_the_merchant_console_with_the_icon(site: Page, product: Product, owner: Any) -> None:
    site.goto(f"{product.url}/")
    expect(site).to_have_title("Flux-Gate")
    picture(site, "home")
    icon = site.request.get(f"{product.url}/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/")
    site.get_by_role("link", name="Merchant sign-in").click()
    expect(site.locator("#site-name")).to_contain_text("Flux-Gate")
    picture(site, "sign-in")
    sign_in(site, product, owner.username)
    assert "Django" not in site.title() and "Django" not in site.locator("#header").inner_text()


def test_the_lists_fit_a_desktop_and_a_phone(site: Page, product: Product, owner: Any) -> None:
    shop = storefront(owner)
    for number in range(3):
        sale = make_sale(owner, live=True, product_name=f"A rather long product name, model {number}")
        product.buy(sale.pk, None, f"layout-{sale.pk}", headers=shop.headers(f"shopper-{number}"))
    sign_in(site, product, owner.username)
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        site.set_viewport_size(size)
        for path in (
            "/admin/",
            "/admin/sales/sale/",
            "/admin/orders/order/",
            "/admin/sales/storefrontkey/",
            f"/admin/sales/sale/{sale.pk}/change/",
            f"/admin/sales/sale/{sale.pk}/dashboard/",
            "/admin/dashboard/",
        ):
            site.goto(f"{product.url}{path}")
            assert not scrolls_sideways(site), f"{path} scrolls sideways at {size['width']} px"
            if site.locator("#result_list").count():
                # The table itself fits too: no column hidden off to the right.
                assert not scrolls_sideways(site, "#changelist .results"), (
                    f"{path}'s table is too wide at {size['width']} px"
                )
            picture(site, f"{name}{path.replace('/', '-').rstrip('-')}")
