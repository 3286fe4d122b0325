from django.contrib import messages as flash
from django.shortcuts import redirect, render

from alerts.forms import AlertSettingsForm
from alerts.selectors import alert_settings_for, alerts_open
from alerts.services import alert_settings_save
from connections.tenancy import tenant_required


@tenant_required(owner=True)
def alert_settings(request):
    form = AlertSettingsForm(
        request.POST or None,
        instance=alert_settings_for(tenant=request.tenant),
        tenant=request.tenant,
    )
    if request.method == "POST" and form.is_valid():
        alert_settings_save(tenant=request.tenant, values=form.cleaned_data)
        flash.success(request, "Alert settings saved.")
        return redirect("alert-settings")
    context = {"form": form, "alerts": alerts_open(tenant=request.tenant)}
    return render(request, "alerts/settings.html", context)
