"""Merchants in one place: who they are (an API token, a signed-in session, the
demo merchant), how one is made (the Merchants group and its permissions), and
what each may see (their own rows; superusers, the platform's operators, all).
The admin pages (sales, orders) and the merchant API all ask here."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from infra.errors import ApplicationError
from sales.models import MerchantToken

if TYPE_CHECKING:
    from django.contrib.auth.models import Group
    from django.contrib.auth.models import User as Merchant  # a staff user in the Merchants group

LAST_USED_GRANULARITY = timedelta(minutes=1)


class MerchantTokenAuth(HttpBearer):
    """`Authorization: Bearer fg_...`: the token's SHA-256 is looked up."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = MerchantToken.find(token)
        if found is None or not found.merchant.is_active:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_GRANULARITY:
            MerchantToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.merchant
        return found.merchant


class DemoModeAuth:
    """With FLUX_DEMO_MODE on (never in production), anonymous calls act as the
    demo merchant, so the seed's scripts run unchanged."""

    def __call__(self, request: HttpRequest) -> Any:
        if not settings.FLUX_DEMO_MODE:
            return None
        merchant = (
            get_user_model().objects.filter(username=settings.FLUX_DEMO_MERCHANT, is_active=True).first()
        )
        if merchant is not None:
            request.user = merchant
        return merchant


class MerchantSessionAuth(SessionAuth):
    """A merchant signed in to the admin (the session cookie), CSRF-checked.

    ninja's SessionAuth checks CSRF before it knows whether the session holds a
    user, so an anonymous caller got 403 "CSRF check Failed" over real HTTP and
    the auth methods after it (demo mode) never ran. CSRF protects what a
    cookie grants: without an authenticated session user there is nothing to
    protect, so this one steps aside (401, or the next auth method) and checks
    CSRF only for a real session user."""

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)  # CSRF check, then the session's user


merchant_auth = [MerchantTokenAuth(), MerchantSessionAuth()]


def can_see_all(user: Merchant) -> bool:
    """Platform operators (superusers) see every merchant's sales."""
    return bool(user.is_superuser)


class MerchantScopedAdmin(admin.ModelAdmin):
    """Rows belong to a merchant through ``merchant_path``; others are invisible."""

    merchant_path = "merchant"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if can_see_all(request.user):
            return queryset
        return queryset.filter(**{self.merchant_path: request.user})

    def get_list_filter(self, request: HttpRequest) -> Any:
        base = list(super().get_list_filter(request))
        return [self.merchant_path, *base] if can_see_all(request.user) else base


MERCHANTS_GROUP = "Merchants"
# What a merchant may do in the admin pages (rows are further scoped to their own).
MERCHANT_PERMISSIONS = [
    ("sales", "add_sale"),
    ("sales", "change_sale"),
    ("sales", "view_sale"),
    ("sales", "add_merchanttoken"),
    ("sales", "view_merchanttoken"),
    ("sales", "delete_merchanttoken"),
    ("sales", "add_storefrontkey"),
    ("sales", "view_storefrontkey"),
    ("sales", "delete_storefrontkey"),
    ("orders", "view_order"),
    ("orders", "view_orderanomaly"),
]


def merchants_group() -> Group:
    """The Merchants group with its permissions (made by migration 0002; made
    again here if it was removed, e.g. by a database flush)."""
    from django.contrib.auth.models import Group, Permission

    group, created = Group.objects.get_or_create(name=MERCHANTS_GROUP)
    if created:
        for app_label, codename in MERCHANT_PERMISSIONS:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


@transaction.atomic
def merchant_create(*, username: str, password: str, email: str = "") -> Merchant:
    """A merchant signs in to the admin pages (is_staff) with the Merchants
    group's permissions; sales.admin scopes every row to its owner."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ApplicationError("conflict", f"A user named {username!r} already exists.")
    try:  # Django's validators (settings.AUTH_PASSWORD_VALIDATORS): length, common, numeric, like the name
        validate_password(password, user=user_model(username=username, email=email))
    except ValidationError as error:
        reasons = list(error.messages)
        raise ApplicationError(
            "invalid", f"Weak password: {' '.join(reasons)}", fields={"password": reasons}
        ) from error
    merchant = user_model.objects.create_user(
        username=username, password=password, email=email, is_staff=True
    )
    merchant.groups.add(merchants_group())
    return merchant
