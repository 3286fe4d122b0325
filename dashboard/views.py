from django.shortcuts import render
from django.utils import timezone

from connections.tenancy import tenant_required
from dashboard.selectors import dashboard_figures


@tenant_required
def dashboard(request):
    figures = dashboard_figures(tenant=request.tenant, now=timezone.now())
    return render(request, "dashboard/dashboard.html", {"figures": figures})
