"""Small pieces every table of bench/RESULTS.md is made of: loading a benchmark's JSON, numbers,
the load note, a Markdown table."""

import json

from bench.common import OUT

SQL_PHASES = {"store": "webhook store", "process": "process / fetch", "notify": "notify",
              "dispatch": "dispatch"}  # fmt: skip


def load(name: str) -> dict | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def ms(value) -> str:
    if value is None or value != value:  # NaN: no sample
        return "—"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def load_note(figures: dict) -> str:
    load = figures.get("load_1min_during") or {}
    if not load:
        return ""
    steal = figures.get("cpu_steal_percent_during")
    return (
        f"1-minute load average during the run: {load['min']:.1f}–{load['max']:.1f} "
        f"(mean {load['mean']:.1f}) on {figures['machine']['cpus']} CPUs"
        + (f", CPU steal {steal:.0f} %" if steal is not None else "")
        + f"; measured {figures['machine']['date_utc']} UTC."
    )


def table(header: list[str], rows: list[list], *, numbers: bool = True) -> str:
    aligned = ["---" if i == 0 or not numbers else "---:" for i in range(len(header))]
    lines = [header, aligned, *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def command(figures: dict) -> str:
    return f"Command: `{figures['command']}`. " + load_note(figures)


def each_run(runs) -> str:
    """p99 of each run with the CPU steal during it; a run discarded for its steal struck out."""

    def one(run) -> str:
        text = ms(run["p99_ms"])
        if "cpu_steal_percent" in run:
            text += f" ({run['cpu_steal_percent']:.1f} %)"
        return text if run.get("kept", True) else f"~~{text}~~"

    return ", ".join(one(run) for run in runs)
