"""The shopper pages speak the browser's language (issue 21), in chromium through
nginx: a browser that asks for German (Accept-Language: de-DE) reads the sale page,
the answer to its Buy, its receipt and the waiting room in German, the scripts'
words included; an English browser reads English; the merchant console stays English."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.factories import make_sale
from tests.support.browser import sign_in
from tests.support.product import Product


def test_a_german_browser_reads_the_shopper_pages_in_german(
    site: Page, product: Product, owner: Any, browser: Browser
) -> None:
    sale = make_sale(owner, live=True, product_name="Fahrrad", quantity=5, unit_price="300.00")
    german = browser.new_context(locale="de-DE")
    english = browser.new_context(locale="en-GB")
    try:
        page = german.new_page()
        response = page.goto(f"{product.url}/sales/{sale.pk}/")
        assert response is not None and response.headers["content-language"] == "de"
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("#buy")).to_have_text("Kaufen")
        expect(page.locator("#stock-words")).to_have_text("noch 5 von 5")  # drawn by the script
        expect(page.locator("#countdown")).to_have_text("Jetzt im Angebot")
        page.click("#buy")
        expect(page.locator("#message")).to_contain_text("Geschafft! Deine Bestellung")
        expect(page.locator("#receipt")).to_contain_text("1 × Fahrrad, 300,00 EUR, angenommen am")
        page.reload()  # the server draws it the same way
        expect(page.locator("#receipt-heading")).to_have_text("Deine Bestellung")
        expect(page.locator("#receipt")).to_contain_text("1 × Fahrrad, 300,00 EUR, angenommen am")
        page.click("#receipt a")
        expect(page.locator("#receipt-page h1")).to_have_text("Beleg")

        page.goto(f"{product.url}/waiting-room/{sale.pk}/")
        expect(page.locator("#heading")).to_have_text("Du bist an der Reihe!")
        expect(page.locator("#buy")).to_have_text("Jetzt kaufen")
        expect(page.locator("#turn")).to_contain_text("Kauf innerhalb von")

        other = english.new_page()
        other.goto(f"{product.url}/sales/{sale.pk}/")
        expect(other.locator("html")).to_have_attribute("lang", "en")
        expect(other.locator("#buy")).to_have_text("Buy")
        expect(other.locator("#stock-words")).to_have_text("4 of 5 left")

        console = german.new_page()
        sign_in(console, product, owner.username)
        expect(console.locator("html")).to_have_attribute("lang", "en")
        expect(
            console.get_by_role("link", name="Log out").or_(console.get_by_role("button", name="Log out"))
        ).to_be_visible()
    finally:
        german.close()
        english.close()
