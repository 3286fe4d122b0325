"""Reads for the sandbox console pages."""

from sandbox.models import Connection, Invoice, Organisation, OutboundHook


def console_overview() -> dict:
    organisations = Organisation.objects.prefetch_related(
        "contacts__groups", "groups", "tracking_categories__options"
    ).order_by("name")
    invoices = (
        Invoice.objects.select_related("contact", "organisation")
        .prefetch_related("tracking_options__category")
        .order_by("organisation__name", "-invoice_number")
    )
    return {
        "organisations": organisations,
        "invoices": invoices,
        "connections": Connection.objects.select_related("organisation"),
        "hooks": OutboundHook.objects.exclude(kind=OutboundHook.Kind.TWILIO_STATUS, url="")[:25],
        "handshake": intent_to_receive_result(),
    }


def intent_to_receive_result() -> dict | None:
    """The latest handshake: passed when every good post got 200 and every bad one 401."""
    latest = OutboundHook.objects.filter(kind=OutboundHook.Kind.XERO_ITR).first()
    if latest is None:
        return None
    posts = list(OutboundHook.objects.filter(run_id=latest.run_id).order_by("pk"))
    finished = all(post.status != OutboundHook.Status.PENDING for post in posts)
    passed = finished and all(
        post.response_status == post.expected_status
        and not post.response_body
        and not post.response_set_cookie
        for post in posts
    )
    return {"posts": posts, "finished": finished, "passed": passed}
