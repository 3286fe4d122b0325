"""XeroClient — the only code in Dunwell that calls Xero's APIs (the token endpoint is oauth.py).

Built per organisation: `XeroClient(connection)`. One private `_request()` does the bearer token
(refreshed ahead of expiry and once on 401 TokenExpired), the Xero-tenant-id header, the shared
call budget (connections.ratelimit), 429 Retry-After and bounded, jittered retries of 5xx and
timeouts. Every error is a `XeroError`; a dead grant is `XeroReconnectRequired`. Do not call it
inside `transaction.atomic()`: refreshes and budget places must commit on their own
(`atomic(durable=True)`), or a rolled-back transaction would lose a rotated refresh token.
"""

import logging
import random
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone

from connections.http import kept
from connections.models import XeroConnection, XeroGrant
from connections.ratelimit import BudgetExhausted, budget_backend, call_slot

logger = logging.getLogger(__name__)

TIMEOUT = (5, 30)
PAGE_SIZE = 100  # Xero's page= returns up to 100 records (FACTS.md)
IDS_PER_CALL = 50  # longer IDs= lists make URLs Xero answers with 404 (FACTS.md)
REFRESH_AHEAD = timedelta(minutes=5)


class XeroError(Exception):
    """A call to Xero failed. `permanent` errors will fail the same way if retried."""

    def __init__(
        self,
        status: int | None,
        detail: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        correlation_id: str = "",
    ):
        super().__init__(f"Xero {status or 'unreachable'}: {detail}")
        self.status = status
        self.detail = detail
        self.permanent = permanent
        self.retry_after = retry_after
        self.correlation_id = correlation_id


class XeroReconnectRequired(XeroError):
    """The grant or the organisation's connection is dead: an owner must connect again."""

    def __init__(self, status: int | None, detail: str, **kwargs):
        kwargs.setdefault("permanent", True)
        super().__init__(status, detail, **kwargs)


class XeroClient:
    def __init__(
        self,
        connection: XeroConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
    ):
        self.connection = connection
        self.sleep = sleep
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.session = kept("xero", requests.Session)

    @property
    def grant(self) -> XeroGrant:
        return self.connection.grant

    # --- resources (shapes as in specs/xero/xero_accounting.yaml) ---------------------------

    def get_invoices(
        self,
        *,
        ids: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        where: str | None = None,
        modified_since: datetime | None = None,
    ) -> list[dict]:
        params = {}
        if statuses:
            params["Statuses"] = ",".join(statuses)
        if where:
            params["where"] = where
        return self._by_ids("Invoices", params, ids=ids, modified_since=modified_since)

    def get_credit_notes(
        self, *, ids: Iterable[str] | None = None, modified_since: datetime | None = None
    ) -> list[dict]:
        if ids is None:
            return self._pages("CreditNotes", {}, modified_since=modified_since)
        # GET /CreditNotes has no IDs= parameter in the spec: ask with an OR-ed where= instead,
        # in smaller batches because each id costs ~45 characters of URL.
        notes = []
        for batch in _batches(ids, IDS_PER_CALL // 2):
            where = " OR ".join(f'CreditNoteID==Guid("{note_id}")' for note_id in batch)
            notes += self._pages("CreditNotes", {"where": where}, modified_since=modified_since)
        return notes

    def get_contacts(
        self, *, ids: Iterable[str] | None = None, modified_since: datetime | None = None
    ) -> list[dict]:
        return self._by_ids("Contacts", {}, ids=ids, modified_since=modified_since)

    def get_payments(self, *, modified_since: datetime | None = None) -> list[dict]:
        return self._pages("Payments", {}, modified_since=modified_since)

    def get_contact_groups(self) -> list[dict]:
        """ACTIVE groups only: Xero does not list deleted ones (specs: ContactGroup.Status)."""
        return self._get("ContactGroups").get("ContactGroups", [])

    def get_tracking_categories(self, *, include_archived: bool = True) -> list[dict]:
        """Tracking categories with their Options; archived ones too when asked (their Status
        says so). Deleted categories and options are never listed."""
        params = {"includeArchived": "true"} if include_archived else None
        return self._get("TrackingCategories", params).get("TrackingCategories", [])

    def get_online_invoice_url(self, invoice_id: str) -> str | None:
        """The customer-facing link; None for invoices that have none (drafts, bills)."""
        try:
            body = self._get(f"Invoices/{invoice_id}/OnlineInvoice")
        except XeroError as error:
            if error.status in (400, 404):
                return None
            raise
        online = body.get("OnlineInvoices") or [{}]
        return online[0].get("OnlineInvoiceUrl") or None

    def get_organisation(self) -> dict:
        return self._get("Organisation")["Organisations"][0]

    def get_invoice_reminder_settings(self) -> dict:
        reminders = self._get("InvoiceReminders/Settings").get("InvoiceReminders") or [{}]
        return reminders[0]

    def disconnect(self) -> None:
        """DELETE /connections/{id} (204); a 404 means Xero had already forgotten it."""
        url = f"{settings.XERO_API_URL}/connections/{self.connection.connection_id}"
        try:
            self._request("DELETE", url, tenant_scoped=False)
        except XeroError as error:
            if error.status != 404:
                raise

    # --- paging and batching ----------------------------------------------------------------

    def _by_ids(self, resource, params, *, ids, modified_since) -> list[dict]:
        if ids is None:
            return self._pages(resource, params, modified_since=modified_since)
        records = []
        for batch in _batches(ids, IDS_PER_CALL):
            records += self._pages(
                resource, {**params, "IDs": ",".join(batch)}, modified_since=modified_since
            )
        return records

    def _pages(self, resource: str, params: dict, *, modified_since=None) -> list[dict]:
        records, page = [], 1
        while True:
            body = self._get(resource, {**params, "page": page}, modified_since=modified_since)
            batch = body.get(resource, [])
            records += batch
            pagination = body.get("pagination")
            if pagination:
                if page >= int(pagination.get("pageCount") or 0):
                    return records
            elif len(batch) < PAGE_SIZE:
                return records
            page += 1

    def _get(self, path: str, params: dict | None = None, *, modified_since=None) -> dict:
        headers = {}
        if modified_since is not None:
            headers["If-Modified-Since"] = (
                modified_since.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
            )
        url = f"{settings.XERO_API_URL}/api.xro/2.0/{path}"
        response = self._request("GET", url, params=params, headers=headers)
        if response.status_code == 304 or not response.content:
            return {}
        return response.json()

    # --- the one place that talks HTTP ------------------------------------------------------

    def _request(
        self, method: str, url: str, *, params=None, headers=None, tenant_scoped: bool = True
    ) -> requests.Response:
        tenant_id = self.connection.xero_tenant_id
        refreshed = False
        failures = 0
        rate_waits = 0
        while True:
            self._ensure_fresh_token()
            request_headers = {
                "Authorization": f"Bearer {self.grant.access_token}",
                "Accept": "application/json",
                **(headers or {}),
            }
            if tenant_scoped:
                request_headers["Xero-tenant-id"] = tenant_id
            slot = call_slot(tenant_id, sleep=self.sleep) if tenant_scoped else nullcontext()
            try:
                with slot:
                    response = self.session.request(
                        method, url, params=params, headers=request_headers, timeout=TIMEOUT
                    )
            except BudgetExhausted as error:
                raise XeroError(429, str(error), retry_after=error.retry_after) from None
            except (requests.Timeout, requests.ConnectionError) as error:
                failures += 1
                self._log(method, url, None, "", type(error).__name__)
                if failures > self.max_retries:
                    raise XeroError(
                        None, f"Xero did not answer after {failures} attempts"
                    ) from None
                self._backoff(failures)
                continue
            self._record(response)
            status = response.status_code
            if status < 400:
                return response
            correlation_id = response.headers.get("Xero-Correlation-Id", "")
            detail = _detail(response)
            self._log(method, url, status, correlation_id, detail)
            if status == 401 and "TokenExpired" in detail and not refreshed:
                self._refresh()
                refreshed = True
                continue
            if status == 429:
                retry_after = float(response.headers.get("Retry-After") or 60)
                problem = response.headers.get("X-Rate-Limit-Problem", "").lower() or "minute"
                # Every worker for this organisation holds off, not just this one; the next
                # call_slot waits out Retry-After (or gives up if that is too long).
                budget_backend().block(tenant_id, problem, retry_after)
                # A spent day budget does not come back within a task's lifetime.
                if problem != "day" and rate_waits < self.max_retries:
                    rate_waits += 1
                    continue
                raise XeroError(
                    429,
                    f"rate limited ({problem} limit)",
                    retry_after=retry_after,
                    correlation_id=correlation_id,
                )
            if status >= 500:
                failures += 1
                if failures <= self.max_retries:
                    self._backoff(failures)
                    continue
                raise XeroError(
                    status,
                    f"Xero is failing ({detail}) after {failures} attempts",
                    correlation_id=correlation_id,
                )
            if status == 401 or (status == 403 and "AuthenticationUnsuccessful" in detail):
                self._mark_needs_reconnect(detail)
                raise XeroReconnectRequired(status, detail, correlation_id=correlation_id)
            raise XeroError(status, detail, permanent=True, correlation_id=correlation_id)

    def _ensure_fresh_token(self) -> None:
        if self.grant.status == XeroGrant.Status.NEEDS_RECONNECT:
            raise XeroReconnectRequired(None, "the Xero grant needs reconnecting")
        if self.grant.expires_at - timezone.now() < REFRESH_AHEAD:
            self._refresh()

    def _refresh(self) -> None:
        if self.grant.pk is None:
            raise XeroReconnectRequired(None, "this consent expired before it was saved")
        # Imported here: services uses XeroClient for onboarding and disconnecting.
        from connections.services import grant_refresh

        self.connection.grant = grant_refresh(grant=self.grant)

    def _backoff(self, failures: int) -> None:
        # Full jitter: workers that failed together do not retry together.
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
        self.sleep(random.uniform(0, ceiling))  # noqa: S311  (timing jitter, not security)

    def _record(self, response: requests.Response) -> None:
        if self.connection.pk is None:
            return
        changes = {}
        for header, field in (
            ("X-MinLimit-Remaining", "min_limit_remaining"),
            ("X-DayLimit-Remaining", "day_limit_remaining"),
        ):
            value = response.headers.get(header, "")
            if value.isdigit():
                changes[field] = int(value)
        if response.status_code < 400:
            changes["last_success_at"] = timezone.now()
        if changes:
            XeroConnection.objects.filter(pk=self.connection.pk).update(**changes)
            for field, value in changes.items():
                setattr(self.connection, field, value)

    def _mark_needs_reconnect(self, detail: str) -> None:
        if self.connection.pk is None:
            return
        XeroConnection.objects.filter(pk=self.connection.pk).exclude(
            status=XeroConnection.Status.DISCONNECTED
        ).update(status=XeroConnection.Status.NEEDS_RECONNECT, last_error=detail[:500])

    def _log(self, method, url, status, correlation_id, detail) -> None:
        logger.warning(
            "xero call failed method=%s path=%s status=%s xero_tenant_id=%s correlation_id=%s "
            "detail=%s",
            method,
            url.removeprefix(settings.XERO_API_URL),
            status,
            self.connection.xero_tenant_id,
            correlation_id,
            detail[:200],
        )


def connections_list(*, access_token: str, auth_event_id: str = "") -> list[dict]:
    """GET /connections: the organisations a fresh consent reaches (FACTS.md "OAuth 2.0")."""
    params = {"authEventId": auth_event_id} if auth_event_id else None
    try:
        response = requests.get(
            f"{settings.XERO_API_URL}/connections",
            params=params,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise XeroError(None, f"Xero did not answer ({type(error).__name__})") from None
    if response.status_code != 200:
        correlation_id = response.headers.get("Xero-Correlation-Id", "")
        logger.warning(
            "xero connections list failed status=%s correlation_id=%s",
            response.status_code,
            correlation_id,
        )
        raise XeroError(response.status_code, _detail(response), correlation_id=correlation_id)
    return [c for c in response.json() if c.get("tenantType", "ORGANISATION") == "ORGANISATION"]


def _batches(ids: Iterable[str], size: int) -> list[list[str]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def _detail(response: requests.Response) -> str:
    """Xero's own words: `Detail` (401/403 problems), `Message` (400 validation), else text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason or ""
    if isinstance(body, dict):
        for key in ("Detail", "Message", "Title", "error"):
            if body.get(key):
                return str(body[key])
    return str(body)[:200]
