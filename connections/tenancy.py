"""The one place that decides which tenant a request acts for.

Every tenant-scoped view is wrapped in `tenant_required` (or uses `TenantRequiredMixin`) and reads
objects only through `get_for_tenant` / `for_tenant`, so an object of another tenant is a 404 —
the same answer as an object that does not exist (healthchecks' `_get_<thing>_for_user`).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, render

from connections.models import Membership, Tenant

SESSION_KEY = "dunwell_tenant_id"


def memberships_of(user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def resolve_membership(request) -> Membership | None:
    """The membership the session has chosen, else the user's first one.

    Asked twice a request (the time zone middleware, then the view): answered once for the
    same user and choice.
    """
    if not request.user.is_authenticated:
        return None
    chosen = request.session.get(SESSION_KEY)
    asked = (request.user.pk, chosen)
    cached = getattr(request, "_dunwell_membership", None)
    if cached is not None and cached[0] == asked:
        return cached[1]
    memberships = memberships_of(request.user)
    membership = memberships.filter(tenant_id=chosen).first() if chosen is not None else None
    membership = membership or memberships.first()
    request._dunwell_membership = (asked, membership)
    return membership


def activate_tenant(request, tenant: Tenant) -> None:
    request.session[SESSION_KEY] = tenant.pk


def _attach(request, *, owner: bool):
    membership = resolve_membership(request)
    if membership is None:
        return render(request, "connections/no_tenant.html", status=403)
    if owner and not membership.is_owner:
        raise PermissionDenied("Only an owner of this tenant can do this.")
    request.membership = membership
    request.tenant = membership.tenant
    return None


def tenant_required(view=None, *, owner: bool = False):
    """Log in, resolve the current tenant onto request.tenant, optionally demand the owner role."""

    def decorator(func):
        @login_required
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            refusal = _attach(request, owner=owner)
            if refusal is not None:
                return refusal
            return func(request, *args, **kwargs)

        wrapper.tenant_scoped = True
        wrapper.owner_required = owner
        return wrapper

    return decorator(view) if view is not None else decorator


class TenantRequiredMixin(LoginRequiredMixin):
    owner_required = False
    tenant_scoped = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        refusal = _attach(request, owner=self.owner_required)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)


def for_tenant(queryset: QuerySet, tenant: Tenant) -> QuerySet:
    return queryset.filter(tenant=tenant)


def get_for_tenant(queryset: QuerySet | type[Model], tenant: Tenant, **lookup):
    """Fetch one object of this tenant, or 404 — for missing and foreign objects alike."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return get_object_or_404(for_tenant(queryset, tenant), **lookup)


def current_tenant(request):
    """Template context: the tenant being acted for and the others the user may switch to."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not request.user.is_authenticated:
        return {}
    return {
        "current_tenant": tenant,
        "current_membership": request.membership,
        "user_memberships": memberships_of(request.user),
    }
