from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from api_tokens import selectors, services
from api_tokens.forms import ApiTokenForm
from connections.tenancy import get_for_tenant, tenant_required


@tenant_required
def api_tokens(request):
    """List this person's tokens (an owner: everyone's) and make a new one, shown only once."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        api_token, raw = services.api_token_create(
            tenant=request.tenant, user=request.user, name=form.cleaned_data["name"]
        )
        created = {"api_token": api_token, "raw": raw}
        form = ApiTokenForm()
    tokens = selectors.api_tokens_visible(membership=request.membership)
    response = render(
        request,
        "api_tokens/api_tokens.html",
        {"form": form, "tokens": tokens, "created": created},
    )
    if created:
        # The page carries a live secret: no browser or proxy may keep a copy of it.
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@tenant_required
def api_token_revoke(request, api_token_id):
    visible = selectors.api_tokens_visible(membership=request.membership)
    api_token = get_for_tenant(visible, request.tenant, pk=api_token_id)
    if services.api_token_revoke(api_token=api_token):
        flash.success(request, f"“{api_token.name}” no longer works.")
    return redirect("api-tokens")
