import copy

from django.contrib import messages
from django.shortcuts import redirect, render

from connections.forms_team import TenantSettingsForm
from connections.tenancy import tenant_required
from connections.tenant_settings import tenant_settings_update


@tenant_required(owner=True)
def tenant_settings(request):
    # The form validates a copy: a rejected name must not leak into the page header.
    form = TenantSettingsForm(request.POST or None, instance=copy.copy(request.tenant))
    if request.method == "POST" and form.is_valid():
        tenant_settings_update(tenant=request.tenant, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("tenant-settings")
    return render(request, "connections/tenant_settings.html", {"form": form})
