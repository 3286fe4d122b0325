"""Seeded fault plans: which calls to a stand-in fail, and how.

A plan fails `rate` of the calls it is asked about, each with a kind drawn from `kinds`, from
its own `random.Random(seed)`, so a run can be replayed with `DUNWELL_FAULT_SEED`. It also
takes a service down completely between `outage` moments (Xero's maintenance 503s, a Twilio
incident), so retries that outlast one call are exercised as well as single failures.

No target (one URL, one phone number) fails more than `max_streak` times in a row: enough to
outlast a single request's own retries, never a whole message's six attempts — so a message
that ends `failed` points at a bug, not at an unlucky seed. `script` names faults a target
gets first, whatever the dice say, for the cases a test must see happen.
"""

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

SEED = int(os.environ.get("DUNWELL_FAULT_SEED", "20260711"))


@dataclass
class FaultPlan:
    kinds: tuple[str, ...] = ()
    rate: float = 0.2
    seed: int = SEED
    max_streak: int = 3
    outage: tuple[datetime, datetime] | None = None
    outage_kind: str = ""
    script: dict[str, list[str]] = field(default_factory=dict)
    injected: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self._random = random.Random(self.seed)
        self._streaks: Counter = Counter()

    def draw(self, target: str) -> str | None:
        """The fault for this call, or None to let it through."""
        if self.outage and self.outage[0] <= timezone.now() < self.outage[1]:
            return self._count(self.outage_kind)
        if self.script.get(target):
            return self._count(self.script[target].pop(0))
        if not self.kinds:
            return None
        if self._random.random() >= self.rate or self._streaks[target] >= self.max_streak:
            self._streaks[target] = 0
            return None
        self._streaks[target] += 1
        return self._count(self._random.choice(self.kinds))

    def _count(self, kind: str) -> str:
        self.injected[kind] += 1
        return kind
