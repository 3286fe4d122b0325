"""Xero's webhook signature (FACTS.md "Xero: webhooks").

The header `x-xero-signature` is base64(HMAC-SHA256(key = the webhook key as UTF-8 text,
message = the raw request body)). Only the bytes Xero sent will do: re-serialised JSON differs in
whitespace and key order, so the body is hashed before anything parses it.
"""

import base64
import hashlib
import hmac


def xero_signature(*, body: bytes, key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_xero_signature(*, body: bytes, signature: str | None, key: str) -> bool:
    if not signature or not key:
        return False
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and the header is
    # whatever the caller sent — a 500 for anyone on the internet otherwise.
    expected = xero_signature(body=body, key=key).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
