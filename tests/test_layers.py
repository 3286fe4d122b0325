"""The one-way layers hold (docs/architecture.md "Layers"), and a wrong import breaks them.

`make test` runs lint-imports on the tree; these tests prove the contract in .importlinter would
catch a new wrong import: they copy the apps aside, add one bad module, and lint the copy.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = [
    "config",
    "dashboard",
    "workspace",
    "alerts",
    "billing_events",
    "messaging",
    "snapshots",
    "api_tokens",
    "connections",
    "sandbox",
]


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", str(ROOT / ".importlinter")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def apps_copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("layers")
    for app in APPS:
        shutil.copytree(ROOT / app, tree / app, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_the_code_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "complaint"),
    [
        # The base reaching up to set up a tenant's schedule, as it once did.
        (
            "connections/wrong.py",
            "def f():\n    from billing_events.reminders import reminder_defaults_create\n",
            "connections is not allowed to import billing_events",
        ),
        # messaging asking billing_events about an invoice.
        (
            "messaging/wrong.py",
            "from billing_events.selectors import invoice_segments\n",
            "messaging is not allowed to import billing_events",
        ),
        # snapshots leaning on billing_events' bookkeeping.
        (
            "snapshots/wrong.py",
            "from billing_events.models import OrganisationSync\n",
            "snapshots is not allowed to import billing_events",
        ),
        # Anything relying on the offline stand-ins.
        (
            "billing_events/wrong.py",
            "import sandbox.models\n",
            "billing_events is not allowed to import sandbox",
        ),
    ],
)
def test_a_wrong_import_breaks_the_contract(apps_copy, module, wrong_import, complaint):
    bad = apps_copy / module
    bad.write_text(wrong_import)
    try:
        result = lint_imports(apps_copy)
    finally:
        bad.unlink()
    assert result.returncode == 1
    assert complaint in result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
