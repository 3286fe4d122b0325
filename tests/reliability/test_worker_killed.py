"""The worker killed with SIGKILL at random points while it sends 500 texts, and started again
each time: every text reaches Twilio exactly once (counted by the stand-in), none is lost, and
none is left `sending` — the reconcile path settles what the dead workers left behind."""

import random

import pytest

from messaging.models import Message
from tests.reliability.faults import SEED
from tests.reliability.live import each_text_sent_once, texts_queue, unfinished, until

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TEXTS = 500


def test_a_worker_killed_five_times_while_sending_500_texts_sends_each_exactly_once(tenant_a, live):
    twilio, processes = live
    log = processes.worker_log
    texts_queue(tenant=tenant_a, count=TEXTS)
    processes.worker_start()

    # Twilio accepts a text, and the worker dies before it hears so.
    twilio.hold(20, accepted=True)
    until(twilio.held.is_set, seconds=120, what="the held send", log=log)
    processes.worker_restart()
    twilio.release.set()
    accepted_unheard = twilio.held_sid
    # A send on its way to Twilio when the worker dies: it never arrives.
    twilio.hold(20, accepted=False)
    until(twilio.held.is_set, seconds=120, what="the held send", log=log)
    processes.worker_restart()
    twilio.release.set()
    # Three more, at random moments of the run.
    for sent in sorted(random.Random(SEED).sample(range(60, TEXTS // 2), 3)):
        until(lambda sent=sent: twilio.count() >= sent, seconds=120, what=f"{sent} texts", log=log)
        processes.worker_restart()

    until(lambda: not unfinished(), seconds=180, what="every text settled", log=log)
    each_text_sent_once(twilio, count=TEXTS)
    reconciled = Message.objects.get(provider_id=accepted_unheard).status_changes.filter(
        note__startswith="Reconciled: Twilio has this message"
    )
    assert reconciled.exists()
