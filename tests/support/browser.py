"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories import PASSWORD
from tests.support.product import Product


def sign_in(page: Page, product: Product, username: str, password: str = PASSWORD) -> None:
    """Sign in on the admin's login form through nginx, as a merchant does."""
    page.goto(f"{product.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{product.url}/admin/")


class ConsoleWatch:
    """Console errors and uncaught exceptions of the pages a test visits. A test
    that visits an error page on purpose allows that one error by its text."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def allow(self, text: str) -> None:
        self.allowed.append(text)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(text in e for text in self.allowed)]
