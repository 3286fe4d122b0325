"""The team's own pages: tenant settings, members, and the public invitation link.

Kept apart from connections/urls.py (the Xero connection's URLs) and included from config/urls.py.
"""

from django.urls import path

from connections import views_members, views_settings

urlpatterns = [
    path("settings/", views_settings.tenant_settings, name="tenant-settings"),
    path("members/", views_members.members, name="members"),
    path("members/invite/", views_members.member_invite, name="member-invite"),
    path(
        "members/<int:membership_id>/remove/",
        views_members.member_remove,
        name="member-remove",
    ),
    path("members/<int:membership_id>/role/", views_members.member_role, name="member-role"),
    path(
        "members/invitations/<int:invitation_id>/revoke/",
        views_members.member_invitation_revoke,
        name="member-invitation-revoke",
    ),
    # Public: the unguessable token is the authority (tests/tenant_urls.PUBLIC_PREFIXES).
    path(
        "invitations/<str:token>/",
        views_members.invitation_accept_page,
        name="invitation-accept",
    ),
]
