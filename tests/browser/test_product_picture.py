"""The shopper pages show the product's picture when the merchant gave one (issue 21),
named by the product for screen readers, and nothing where there is none."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.factories import make_sale
from tests.support.product import Product


def test_the_pages_show_the_merchants_picture(site: Page, product: Product, owner: Any) -> None:
    pictured = make_sale(
        owner, live=True, product_name="Kettle", image_url="/static/flux/favicon.svg", rate=1, burst=1
    )
    plain = make_sale(owner, live=True, product_name="Toaster")

    site.goto(f"{product.url}/sales/{pictured.pk}/")
    picture = site.get_by_role("img", name="Kettle")
    expect(picture).to_be_visible()
    assert picture.evaluate("(img) => img.complete && img.naturalWidth > 0"), "the picture loaded"

    site.goto(f"{product.url}/waiting-room/{pictured.pk}/")
    expect(site.get_by_role("img", name="Kettle")).to_be_visible()

    site.goto(f"{product.url}/sales/{plain.pk}/")
    expect(site.locator("img")).to_have_count(0)
