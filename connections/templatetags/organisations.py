from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.filter
def organisation_name(organisations, xero_tenant_id: str) -> str:
    """{{ organisations|organisation_name:row.xero_tenant_id }}: the organisation's name, or ""."""
    return organisations.name(xero_tenant_id or "") if organisations else ""


@register.simple_tag(takes_context=True)
def query_with_organisation(context, organisation_id: str) -> str:
    """This page's query string with `organisation` set (and back to the first page): the link
    that answers "which organisation?"."""
    query = context["request"].GET.copy()
    query.pop("page", None)
    query["organisation"] = organisation_id
    return query.urlencode()


@register.simple_tag(takes_context=True)
def query_kept_inputs(context) -> str:
    """Hidden inputs carrying this page's other query parameters through the organisation
    filter (`organisation` itself and `page` are left out)."""
    query = context["request"].GET
    return format_html_join(
        "",
        '<input type="hidden" name="{}" value="{}">',
        (
            (name, value)
            for name, values in query.lists()
            if name not in ("organisation", "page")
            for value in values
        ),
    )
