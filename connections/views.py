from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from connections.tenancy import activate_tenant, memberships_of, tenant_required


@tenant_required
def home(request):
    return render(request, "connections/home.html", {"tenant": request.tenant})


@require_POST
@tenant_required
def switch_tenant(request, slug):
    # Candidates are the user's own memberships only: another tenant's slug is a 404.
    membership = get_object_or_404(memberships_of(request.user), tenant__slug=slug)
    activate_tenant(request, membership.tenant)
    return redirect("home")
