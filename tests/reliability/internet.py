"""Every HTTP call of an in-process run, served by Django itself, with faults at the boundary.

Dunwell's Xero and Twilio clients, the sandbox's webhooks and Twilio's status callbacks all go
through `requests`; `responses` hands each call to a Django test client: /sandbox/… is Xero or
Twilio, anything else is Dunwell. Before a call reaches the sandbox its service's FaultPlan may
fail it the way the real service fails (FACTS.md):

Xero (API and identity):  429 with Retry-After; 503; a read timeout (Xero did the work, the
answer was lost); a connection error before the request left.
Twilio (Messages.json):   429 / 20429 (never processed); 500 before creating; 500 *after*
creating; a read timeout or a reset after creating (accepted, answer lost); a connect timeout.

Dunwell's own answers are recorded: a 5xx from Dunwell is a failed test, never a fault.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from django.test import Client
from urllib3.exceptions import ProtocolError

from tests.reliability.faults import FaultPlan

BASE = "http://dunwell.test"
XERO_PATHS = ("/sandbox/xero/api/", "/sandbox/xero/identity/")
TWILIO_PATHS = ("/sandbox/twilio/2010-04-01/",)

# Kinds a plan may draw (FaultPlan.kinds), by service.
XERO_FAULTS = ("429", "503", "read-timeout", "connection-error")
TWILIO_FAULTS = ("429", "500", "500-after-create", "read-timeout-after-create",
                 "reset-after-create", "connect-timeout")  # fmt: skip
RETRY_AFTER_SECONDS = (1, 5, 20, 60)  # 60 outlasts XERO_BUDGET_MAX_WAIT_SECONDS: the task retries


def _xero_problem(status: int, title: str) -> bytes:
    return json.dumps({"Title": title, "Status": status, "Detail": title}).encode()


def _twilio_problem(status: int, code: int, message: str) -> bytes:
    return json.dumps({"code": code, "message": message, "status": status}).encode()


@dataclass
class Internet:
    xero: FaultPlan
    twilio: FaultPlan
    dunwell_answers: list[tuple[str, str, int]] = field(default_factory=list)

    def install(self, mock: responses.RequestsMock) -> None:
        everything = re.compile(re.escape(BASE) + r"/.*")
        for method in ("GET", "POST", "DELETE"):
            mock.add_callback(method, everything, callback=self._serve)

    def _serve(self, request):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith(XERO_PATHS):
            return self._xero(request, path)
        if parts.path.startswith(TWILIO_PATHS):
            return self._twilio(request, path)
        status, headers, body = self._forward(request, path)
        self.dunwell_answers.append((request.method, parts.path, status))
        return status, headers, body

    def _forward(self, request, path: str):
        body = request.body or b""
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("content-type", "content-length", "host")
        }
        response = Client(raise_request_exception=False).generic(
            request.method,
            path,
            data=body.encode() if isinstance(body, str) else body,
            content_type=request.headers.get("Content-Type", ""),
            headers=headers,
        )
        return response.status_code, dict(response.items()), response.content

    def _xero(self, request, path: str):
        fault = self.xero.draw(f"{request.method} {path}")
        if fault == "429":
            seconds = RETRY_AFTER_SECONDS[self.xero.injected["429"] % len(RETRY_AFTER_SECONDS)]
            headers = {"Retry-After": str(seconds), "X-Rate-Limit-Problem": "minute"}
            return 429, headers, _xero_problem(429, "Too Many Requests")
        if fault == "503":
            return 503, {}, _xero_problem(503, "Service Unavailable")
        if fault == "connection-error":
            raise requests.ConnectionError("Connection refused (injected)")
        answer = self._forward(request, path)
        if fault == "read-timeout":
            raise requests.ReadTimeout("Read timed out (injected)")
        return answer

    def _twilio(self, request, path: str):
        to = parse_qs(request.body if isinstance(request.body, str) else "").get("To", [""])[0]
        fault = self.twilio.draw(f"{request.method} {to or path}")
        if fault == "429":
            return 429, {}, _twilio_problem(429, 20429, "Too Many Requests")
        if fault == "500":
            return 500, {}, _twilio_problem(500, 20500, "Internal Server Error")
        if fault == "connect-timeout":
            raise requests.ConnectTimeout("Connection to api.twilio.com timed out (injected)")
        answer = self._forward(request, path)
        if fault == "500-after-create":
            return 500, {}, _twilio_problem(500, 20500, "Internal Server Error")
        if fault == "read-timeout-after-create":
            raise requests.ReadTimeout("Read timed out (injected)")
        if fault == "reset-after-create":
            reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
            raise requests.ConnectionError(reset)
        return answer

    def dunwell_errors(self) -> list[tuple[str, str, int]]:
        return [answer for answer in self.dunwell_answers if answer[2] >= 500]
