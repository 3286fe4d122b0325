import pytest
import responses
import time_machine
from django.db import connection, connections

from connections.xero import XeroClient
from tests.reliability.faults import SEED, FaultPlan
from tests.reliability.internet import BASE, Internet
from tests.reliability.live import (
    PrivatePostgres,
    Processes,
    StandInTwilio,
    postgres_restartable,
)
from tests.reliability.world import OFFICES, World, office_time
from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, WEBHOOK_KEY


@pytest.fixture
def persistent_connection(transactional_db):
    """SQLite's default closes the connection after every query outside a transaction
    (CONN_MAX_AGE 0), and the task broker runs one per task: keep it, as a worker would."""
    database = connection.settings_dict
    kept = database["CONN_MAX_AGE"]
    connection.close()
    database["CONN_MAX_AGE"] = None
    yield
    connection.close()
    database["CONN_MAX_AGE"] = kept


@pytest.fixture
def live(tmp_path, persistent_connection):
    """A stand-in Twilio on a real port, and the worker (and web) processes that use it."""
    twilio = StandInTwilio(seed=SEED)
    processes = Processes(tmp_path, twilio=twilio)
    yield twilio, processes
    processes.stop()
    twilio.close()


@pytest.fixture
def private_postgres(transactional_db):
    """The test database copied to a PostgreSQL server of its own, which this process (and the
    processes it starts) use for the rest of the test; the test may stop and start it."""
    reason = postgres_restartable()
    if reason:
        pytest.skip(reason)
    server = PrivatePostgres()
    database = connection.settings_dict
    shared = {key: database[key] for key in ("HOST", "PORT", "NAME")}
    try:
        copy = {"HOST": "127.0.0.1", "PORT": str(server.port), "NAME": server.clone(database)}
        connections.close_all()
        database.update(copy)
        yield server
    finally:
        # Back to the shared server before pytest-django empties the test database there.
        connections.close_all()
        database.update(shared)
        server.remove()


@pytest.fixture
def make_world(settings, monkeypatch, persistent_connection):
    """A World whose Xero and Twilio fail as the given plans say; offices open, timetable set.

    Committed transactions (transactional_db), so on_commit kicks reach the task queue as in
    production.
    """
    settings.PUBLIC_BASE_URL = BASE
    settings.XERO_CLIENT_ID = CLIENT_ID
    settings.XERO_CLIENT_SECRET = CLIENT_SECRET
    settings.XERO_WEBHOOK_KEY = WEBHOOK_KEY
    settings.XERO_LOGIN_URL = f"{BASE}/sandbox/xero/login"
    settings.XERO_IDENTITY_URL = f"{BASE}/sandbox/xero/identity"
    settings.XERO_API_URL = f"{BASE}/sandbox/xero/api"
    settings.TWILIO_API_URL = f"{BASE}/sandbox/twilio"
    settings.SANDBOX_DELIVER_IN_BACKGROUND = False
    # Status callbacks come minutes after a send: an unanswered send is reconciled first.
    settings.SANDBOX_TWILIO_STEP_SECONDS = 240
    start = office_time(OFFICES[0], 0, "11:00")
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        time_machine.travel(start, tick=True) as traveller,
    ):

        def make(*, xero: FaultPlan | None = None, twilio: FaultPlan | None = None) -> World:
            internet = Internet(xero=FaultPlan(), twilio=FaultPlan())
            internet.install(mock)
            world = World(internet=internet, traveller=traveller)
            # Services build XeroClient(connection) with the real time.sleep; here its waits
            # (backoff, Retry-After, the call budget) pass on the virtual clock instead.
            monkeypatch.setitem(XeroClient.__init__.__kwdefaults__, "sleep", world.sleep)
            world.open_offices()  # connecting is not under test: the faults start after it
            world.timetable()
            internet.xero, internet.twilio = xero or FaultPlan(), twilio or FaultPlan()
            return world

        yield make
