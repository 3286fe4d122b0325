"""SendGrid's v3 mail/send, offline: 202 means queued, never delivered (FACTS.md "Twilio")."""

import secrets

from sandbox.models import Email


class SendGridError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def body(self) -> dict:
        return {"errors": [{"message": self.message, "field": self.field, "help": None}]}


def key_check(*, authorization: str) -> None:
    if not authorization.startswith("Bearer SG."):
        raise SendGridError(401, "The provided authorization grant is invalid, expired, or revoked")


def mail_send(*, payload) -> Email:
    if not isinstance(payload, dict):
        raise SendGridError(400, "Bad Request", None)
    personalizations = payload.get("personalizations") or []
    recipients = [
        to.get("email", "")
        for personalization in personalizations
        if isinstance(personalization, dict)
        for to in personalization.get("to", [])
        if isinstance(to, dict)
    ]
    if not recipients:
        raise SendGridError(400, "The personalizations field is required.", "personalizations")
    sender = payload.get("from") or {}
    if not isinstance(sender, dict) or not sender.get("email"):
        raise SendGridError(400, "The from object must be provided.", "from")
    contents = {part.get("type"): part.get("value", "") for part in payload.get("content") or []}
    if not contents and not payload.get("template_id"):
        raise SendGridError(400, "The content value must be a string.", "content")
    subject = payload.get("subject") or personalizations[0].get("subject", "")
    if not subject and not payload.get("template_id"):
        raise SendGridError(400, "The subject is required.", "subject")
    return Email.objects.create(
        message_id=secrets.token_urlsafe(16),
        from_email=sender["email"],
        to=recipients,
        subject=subject,
        text=contents.get("text/plain", ""),
        html=contents.get("text/html", ""),
        payload=payload,
    )
