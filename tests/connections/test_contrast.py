"""The stylesheet's colour pairs meet WCAG 2.2 AA contrast: 4.5:1 for text, 3:1 for focus rings."""

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "static/css/dunwell.css").read_text()
COLOURS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})", CSS))


def _luminance(hex_colour: str) -> float:
    hex_colour = hex_colour.lstrip("#")
    if len(hex_colour) == 3:
        hex_colour = "".join(c * 2 for c in hex_colour)
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _colour(name: str) -> str:
    return COLOURS[name] if not name.startswith("#") else name


TEXT_PAIRS = [
    ("ink", "bg"), ("ink", "card"), ("muted", "card"), ("muted", "bg"),
    ("accent", "card"), ("accent", "bg"), ("accent-ink", "accent"), ("accent-ink", "bad"),
    ("bad", "card"), ("ok", "card"), ("warn", "card"),
    ("bad", "#fbe9ea"), ("ok", "#e6f4ea"), ("ink", "#e8f0fb"), ("warn", "#fff4d6"),
]  # fmt: skip


@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_text_colours_meet_aa(foreground, background):
    assert contrast(_colour(foreground), _colour(background)) >= 4.5


@pytest.mark.parametrize("background", ["bg", "card"])
def test_the_focus_ring_stands_out(background):
    assert contrast(_colour("focus"), _colour(background)) >= 3
