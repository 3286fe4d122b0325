from django import template
from django.urls import reverse

from connections.navigation import MAIN_NAV

register = template.Library()


@register.inclusion_tag("includes/main_nav.html", takes_context=True)
def main_nav(context):
    """The MAIN_NAV entries this member may use, the current one marked for aria-current."""
    membership = context.get("current_membership")
    path = context["request"].path
    links = []
    for entry in MAIN_NAV:
        if entry.owner_only and not (membership and membership.is_owner):
            continue
        url = reverse(entry.url_name)
        current = path == url if url == "/" else path.startswith(url)
        links.append({"label": entry.label, "url": url, "current": current})
    return {"links": links}
