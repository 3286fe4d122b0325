"""Every recorded webhook delivery is exercised by some test (Zulip's rule: none rots unused)."""

from pathlib import Path

from tests.billing_events.helpers import FIXTURES


def test_every_xero_webhook_fixture_is_used_by_a_test():
    tests = Path(__file__).resolve().parent.parent
    sources = "".join(path.read_text() for path in tests.rglob("*.py"))
    unused = [
        path.name
        for path in sorted((FIXTURES / "webhooks").glob("*.json"))
        if f'"{path.stem}"' not in sources
    ]
    assert not unused, f"unused fixtures: {unused}"
