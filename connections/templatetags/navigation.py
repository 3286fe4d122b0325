from django import template
from django.urls import reverse

from connections.navigation import MAIN_NAV

register = template.Library()


def _matches(path: str, url: str) -> bool:
    return path == url if url == "/" else path.startswith(url)


def _count(context, name: str) -> int:
    value = context.get(name) if name else None
    return (value() if callable(value) else value) or 0


@register.inclusion_tag("includes/main_nav.html", takes_context=True)
def main_nav(context):
    """The MAIN_NAV entries this member may use, the current one marked for aria-current."""
    membership = context.get("current_membership")
    path = context["request"].path
    links = [
        {
            "label": entry.label,
            "url": reverse(entry.url_name),
            "group": entry.group,
            "count": _count(context, entry.count),
        }
        for entry in MAIN_NAV
        if not entry.owner_only or (membership and membership.is_owner)
    ]
    current = max(
        (link["url"] for link in links if _matches(path, link["url"])), key=len, default=None
    )
    for link in links:
        link["current"] = link["url"] == current
    groups: dict[str, list[dict]] = {}
    for link in links:
        if link["group"]:
            groups.setdefault(link["group"], []).append(link)
    return {
        "links": [link for link in links if not link["group"]],
        "groups": [
            {"label": label, "links": grouped, "current": any(g["current"] for g in grouped)}
            for label, grouped in groups.items()
        ],
    }
