"""The main navigation: one list, shown in templates/base.html by `{% main_nav %}`.

A new page joins the nav by adding one NavEntry here. Only link pages that exist. The entry whose
URL is the longest prefix of the current path is marked current ("/" only matches itself), and
so is the group holding it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    owner_only: bool = False
    # Entries sharing a group are folded under one disclosure ("Settings"), so the bar fits on
    # one line on a laptop screen.
    group: str = ""
    # A number shown beside the label (e.g. texts waiting in the inbox): the name of a template
    # context value a context processor of a higher layer sets, a callable read only when the
    # navigation is drawn.
    count: str = ""


MAIN_NAV: list[NavEntry] = [
    NavEntry("Home", "home"),
    NavEntry("Invoices", "workspace:invoice-list"),
    NavEntry("Dashboard", "dashboard"),
    NavEntry("Send log", "messaging:message-list"),
    NavEntry("Templates", "messaging:template-list"),
    NavEntry("Reminders", "reminders"),
    NavEntry("Inbox", "messaging:inbox", count="inbox_waiting"),
    NavEntry("Contacts to fix", "messaging:contacts-needing-phone"),
    NavEntry("Set-up wizard", "welcome", owner_only=True, group="Settings"),
    NavEntry("Members", "members", group="Settings"),
    NavEntry("API tokens", "api-tokens", group="Settings"),
    NavEntry("Xero", "xero-connections", owner_only=True, group="Settings"),
    NavEntry("Twilio & email", "messaging:settings", owner_only=True, group="Settings"),
    NavEntry("Alerts", "alert-settings", owner_only=True, group="Settings"),
    NavEntry("Account", "tenant-settings", owner_only=True, group="Settings"),
]
