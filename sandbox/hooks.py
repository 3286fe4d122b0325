"""Outgoing webhooks and callbacks: stored first, POSTed later from a background thread.

A console click or a Twilio send only inserts `OutboundHook` rows, so the request that caused
them stays fast and a single-threaded dev server never waits on itself. After commit, a daemon
thread delivers whatever is due (claimed with a conditional UPDATE, so two threads or processes
never send one row twice) and sleeps until the next row is due, e.g. Twilio's `delivered` step.
"""

import base64
import hashlib
import hmac
import logging
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import requests
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from twilio.request_validator import RequestValidator

from sandbox.models import OutboundHook

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# Xero retries a failed delivery with decreasing frequency (FACTS.md); the sandbox keeps it short.
XERO_MAX_ATTEMPTS = 5


def xero_signature(body: bytes, key: str | None = None) -> str:
    """base64(HMAC-SHA256(webhook key as UTF-8, raw body)) — the x-xero-signature header."""
    key = settings.XERO_WEBHOOK_KEY if key is None else key
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def twilio_signature(*, url: str, params: dict, auth_token: str) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


def hook_create(
    *,
    kind: str,
    url: str,
    body: bytes,
    content_type: str,
    headers: dict,
    summary: str,
    due_at=None,
    **fields,
) -> OutboundHook:
    hook = OutboundHook.objects.create(
        kind=kind,
        url=url,
        body=body,
        content_type=content_type,
        headers=headers,
        summary=summary,
        next_attempt_at=due_at or timezone.now(),
        max_attempts=XERO_MAX_ATTEMPTS if kind == OutboundHook.Kind.XERO_EVENTS else 1,
        **fields,
    )
    transaction.on_commit(hooks_kick)
    return hook


def hooks_deliver_due(*, now=None) -> int:
    """Deliver every pending hook that is due; return how many were attempted."""
    now = now or timezone.now()
    attempted = 0
    due = OutboundHook.objects.filter(status=OutboundHook.Status.PENDING, next_attempt_at__lte=now)
    for hook_id in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True):
        claimed = OutboundHook.objects.filter(
            pk=hook_id, status=OutboundHook.Status.PENDING
        ).update(status=OutboundHook.Status.SENDING)
        if claimed == 1:
            hook_deliver(hook=OutboundHook.objects.get(pk=hook_id))
            attempted += 1
    return attempted


def hook_deliver(*, hook: OutboundHook) -> None:
    from sandbox.twilio_fake import message_status_apply, reply_from_twiml

    if hook.message_id and hook.message_status:
        message_status_apply(message=hook.message, status=hook.message_status)
    hook.attempts += 1
    if not hook.url:
        hook.status = OutboundHook.Status.SENT
        hook.sent_at = timezone.now()
        hook.save()
        return
    try:
        response = requests.post(
            hook.url,
            data=bytes(hook.body),
            headers={"Content-Type": hook.content_type, **hook.headers},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        _failed(hook, f"{type(exc).__name__}: {exc}")
        return
    hook.response_status = response.status_code
    hook.response_body = response.text[:2000]
    hook.response_set_cookie = "Set-Cookie" in response.headers
    if response.ok or hook.kind == OutboundHook.Kind.XERO_ITR:
        hook.status = OutboundHook.Status.SENT
        hook.sent_at = timezone.now()
        hook.save()
        if hook.kind == OutboundHook.Kind.TWILIO_INBOUND and response.ok:
            for body in _twiml_messages(response.text):
                reply_from_twiml(inbound=hook.message, body=body)
        return
    _failed(hook, f"HTTP {response.status_code}")


def _failed(hook: OutboundHook, error: str) -> None:
    hook.last_error = error
    if hook.attempts < hook.max_attempts:
        hook.status = OutboundHook.Status.PENDING
        hook.next_attempt_at = timezone.now() + timedelta(seconds=5 * 2**hook.attempts)
    else:
        hook.status = OutboundHook.Status.FAILED
    hook.save()


def _twiml_messages(text: str) -> list[str]:
    """The <Message> bodies of a TwiML answer: Twilio sends each of them back to the phone."""
    try:
        root = ET.fromstring(text)  # noqa: S314  (our own server's answer, in a sandbox)
    except ET.ParseError:
        return []
    bodies = []
    for message in root.iter("Message"):
        body = message.find("Body")
        text_ = body.text if body is not None else message.text
        if text_ and text_.strip():
            bodies.append(text_.strip())
    return bodies


# --- the background kick ------------------------------------------------------------------------

_lock = threading.Lock()
_wake = threading.Event()
_worker: threading.Thread | None = None
_IDLE_SECONDS = 30


def hooks_kick() -> None:
    """Start (or wake) the delivery thread; a no-op when tests deliver by hand."""
    global _worker
    if not settings.SANDBOX_DELIVER_IN_BACKGROUND:
        return
    with _lock:
        if _worker is not None:
            _wake.set()
            return
        _worker = threading.Thread(target=_run, name="sandbox-hooks", daemon=True)
        _worker.start()


def _seconds_until_next() -> float | None:
    pending = OutboundHook.objects.filter(status=OutboundHook.Status.PENDING)
    next_at = pending.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if next_at is None:
        return None
    return max(0.0, (next_at - timezone.now()).total_seconds())


def _run() -> None:
    global _worker
    try:
        while True:
            close_old_connections()
            try:
                hooks_deliver_due()
            except Exception:
                logger.exception("sandbox hook delivery failed")
            # Decide to stop under the lock, so a kick either sees us alive or starts a new thread.
            with _lock:
                wait = _seconds_until_next()
                if wait is None:
                    _worker = None
                    return
                _wake.clear()
            _wake.wait(min(wait, _IDLE_SECONDS) if wait else 0.05)
    finally:
        with _lock:
            if _worker is threading.current_thread():
                _worker = None
        connection.close()
