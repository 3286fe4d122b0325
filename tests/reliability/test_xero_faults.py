"""Xero failing a fifth of its calls — 429 with Retry-After, 503, timeouts, refused connections,
on the API and the token endpoint alike — and down for most of an hour around a reminder run:
every message of three tenants' days still goes exactly once, and nothing is lost."""

import pytest

from tests.reliability.faults import FaultPlan
from tests.reliability.internet import XERO_FAULTS
from tests.reliability.world import OFFICES, ledger_check, office_time

pytestmark = pytest.mark.faults


def test_xero_failing_a_fifth_of_calls_and_down_at_reminder_time_loses_and_repeats_nothing(
    make_world,
):
    kauri = OFFICES[0]
    maintenance = (office_time(kauri, 1, "08:50"), office_time(kauri, 1, "09:40"))
    world = make_world(xero=FaultPlan(kinds=XERO_FAULTS, outage=maintenance, outage_kind="503"))

    world.run()

    ledger_check(world)
    assert set(world.internet.xero.injected) == set(XERO_FAULTS)
