"""The main navigation: one list, shown in templates/base.html by `{% main_nav %}`.

A new page joins the nav by adding one NavEntry here. Only link pages that exist. The entry whose
URL is the longest prefix of the current path is marked current ("/" only matches itself).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    owner_only: bool = False


MAIN_NAV: list[NavEntry] = [
    NavEntry("Home", "home"),
    NavEntry("Dashboard", "dashboard"),
    NavEntry("Send log", "messaging:message-list"),
    NavEntry("Templates", "messaging:template-list"),
    NavEntry("Contacts to fix", "messaging:contacts-needing-phone"),
    NavEntry("Xero", "xero-connections", owner_only=True),
    NavEntry("Twilio & email", "messaging:settings", owner_only=True),
    NavEntry("Members", "members"),
    NavEntry("Settings", "tenant-settings", owner_only=True),
]
