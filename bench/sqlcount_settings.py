"""config.settings plus bench/sqlcount.py's statement counter (for `bench.e2e --count-sql`)."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.sqlcount.SqlCountConfig"]  # noqa: F405
