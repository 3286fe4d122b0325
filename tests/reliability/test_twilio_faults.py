"""Twilio failing a fifth of its calls — 429, 500 before and after creating the message, read
timeouts and resets after accepting it, connect timeouts — and down for minutes while invoices
go out: Twilio receives each text exactly once, and the refused ones say why."""

import pytest

from tests.reliability.faults import FaultPlan
from tests.reliability.internet import TWILIO_FAULTS
from tests.reliability.world import OFFICES, ledger_check, office_time

pytestmark = pytest.mark.faults

AROHA = "+64215550101"


def test_twilio_failing_a_fifth_of_calls_receives_each_text_exactly_once(make_world):
    kauri = OFFICES[0]
    incident = (office_time(kauri, 0, "13:12"), office_time(kauri, 0, "13:20"))
    plan = FaultPlan(
        kinds=TWILIO_FAULTS,
        outage=incident,
        outage_kind="500",
        # Every kind at least once, whatever the dice say: Aroha's first three texts are
        # accepted by Twilio but Dunwell never hears so; the next are refused or lost on the way.
        script={
            f"POST {AROHA}": [
                "500-after-create",
                "read-timeout-after-create",
                "reset-after-create",
                "429",
                "500",
                "connect-timeout",
            ]
        },  # fmt: skip
    )
    world = make_world(twilio=plan)

    world.run()

    report = ledger_check(world)
    assert report["reconciled"] >= 3  # found at Twilio, not sent again
    assert set(world.internet.twilio.injected) == set(TWILIO_FAULTS)
