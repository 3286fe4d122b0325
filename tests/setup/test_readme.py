"""The README a newcomer and an operator follow: what it names exists, and it stays in the repo."""

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_management_command_the_readme_names_exists():
    named = set(re.findall(r"manage\.py (\w+)", README))

    assert {"createsuperuser", "reminders_run", "createtenant"} <= named
    assert named - set(get_commands()) == set()


def test_the_readme_links_to_nothing_outside_the_repository():
    links = re.findall(r"\]\(([^)]+)\)", README)
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]

    assert "../" not in README
    for link in relative:
        target = (ROOT / link.split("#")[0]).resolve()
        assert target.is_relative_to(ROOT), link


def test_the_readme_tells_how_to_choose_the_port_and_host_of_make_run():
    assert "make run PORT=" in README
    assert "`HOST=" in README


def test_the_readme_documents_the_keywords_customers_can_reply():
    for keyword in ("`STOP`", "`START`", "`HELP`", "`PAID INV-0142`"):
        assert keyword in README
