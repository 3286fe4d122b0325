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
        links.append({"label": entry.label, "url": url, "current": False})
    # The longest matching prefix wins: /messaging/templates/ is Templates, not the send log.
    matching = [
        link
        for link in links
        if path == link["url"] or link["url"] != "/" and path.startswith(link["url"])
    ]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["current"] = True
    return {"links": links}
