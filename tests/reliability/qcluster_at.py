"""`manage.py qcluster` with its clock moved on: python -m tests.reliability.qcluster_at SECONDS.

A worker restarted after a crash finds the claims its predecessor left; they are reconciled once
SENDING_STALE_AFTER has passed. Starting the new cluster that many seconds ahead (the clock then
runs on normally; forked worker processes inherit it) stands in for waiting that long.
"""

import os
import sys
import time

import time_machine
from django.core.management import execute_from_command_line

if __name__ == "__main__":
    ahead = float(sys.argv[1])
    if ahead:
        time_machine.travel(time.time() + ahead, tick=True).start()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    execute_from_command_line(["manage.py", "qcluster"])
