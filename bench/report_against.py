"""The side-by-side tables: each figure of this commit beside the same figure of another commit,
measured in the same interleaved run, and their ratio."""

from bench.common import median as median_of
from bench.report_format import SQL_PHASES, command, load, table


def _against_calls(f: dict):
    for r in f["dunwell"]:
        yield f"{r['scenario']}: SQL statements per text", r["sql_statements_per_text"]
        for phase, label in SQL_PHASES.items():
            by_phase = r.get("sql_statements_per_text_by_phase", {})
            if phase in by_phase:
                yield f"{r['scenario']}: … {label}", by_phase[phase]
        yield f"{r['scenario']}: Xero calls per text", r["xero_calls_per_notification"]
        yield f"{r['scenario']}: 429s", r["xero_429"]
        yield f"{r['scenario']}: seconds (in-process)", r["seconds"]


def _against_e2e(f: dict):
    for r in f["results"]:
        if "error" not in r:
            name = f"{r['config']}, {r['q_workers']} worker(s)"
            yield f"{name}: texts/s", r["messages_per_second"]
            if "sql_statements_per_text" in r:
                yield f"{name}: SQL statements per text", r["sql_statements_per_text"]
                yield f"{name}: … of which broker", r["sql_statements_per_text_by_phase"]["broker"]
            yield f"{name}: p95 latency (s)", r["latency_p95_s"]
            yield f"{name}: Xero calls", r["xero_calls"]
            yield f"{name}: 429s", r["xero_429"]


def _against_latency(f: dict):
    for r in f["results"]:
        if "error" not in r:
            yield f"{r['config']}: p50 (s)", r["latency_p50_s"]
            yield f"{r['config']}: p95 (s)", r["latency_p95_s"]


def _against_scaleout(f: dict):
    for r in f["results"]:
        if "error" not in r:
            yield f"{r['pools']} pool(s): texts/s", r["messages_per_second"]
            yield f"{r['pools']} pool(s): 429s", r["xero_429"]
            yield (f"{r['pools']} pool(s): most requests, one organisation, 60 s",
                   r["max_xero_requests_any_60s_one_organisation"])  # fmt: skip


def _against_sweep(f: dict):
    for r in f["results"]:
        size = f"{r['organisations']} × {r['open_invoices_each']}"
        yield f"{size}: sweep seconds", r["sweep_seconds"]
        yield f"{size}: Xero calls", r["sweep_xero_calls"]
        yield f"{size}: ms per reminder", r["ms_per_reminder"]


AGAINST = {"calls": _against_calls, "e2e": _against_e2e, "burst": _against_e2e,
           "e2e-twilio150": _against_e2e,
           "latency": _against_latency, "scaleout": _against_scaleout,
           "sweep": _against_sweep}  # fmt: skip


def _median_by_label(runs: list[dict], figures) -> dict:
    values: dict[str, list] = {}
    for run in runs:
        if "error" not in run:
            for label, value in figures(run):
                values.setdefault(label, []).append(value)
    return {label: median_of(v) for label, v in values.items()}


def _number(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def against(name: str) -> str:
    figures = load(f"{name}-against")
    if figures is None:
        return f"_Not run side by side yet: `python -m bench.against --rev <rev> {name} …`._"
    this = _median_by_label([r["this"] for r in figures["rounds"]], AGAINST[name])
    other = _median_by_label([r["other"] for r in figures["rounds"]], AGAINST[name])
    rows = []
    for label in dict.fromkeys([*this, *other]):
        a, b = this.get(label), other.get(label)
        ratio = f"{a / b:.2f}×" if a is not None and b else "—"
        rows.append([label, _number(a), _number(b), ratio])
    mine, theirs = figures["this"], figures["other"]
    failed = sum("error" in side for r in figures["rounds"] for side in r.values())
    header = ["figure (median of the rounds)", f"this ({mine['sha'][:8]})",
              f"{theirs['rev']} ({theirs['sha'][:8]})", "this ÷ that"]  # fmt: skip
    return "\n".join(
        [
            command(figures),
            f"{len(figures['rounds'])} round(s), each one run of this commit and one of "
            f"`{theirs['rev']}`, interleaved, with the same settings "
            f"(`{' '.join(figures['args'])}`)"
            + (f"; {failed} run(s) failed (their errors are in the JSON)" if failed else "")
            + (", this side with uncommitted changes" if mine.get("uncommitted_changes") else "")
            + ".",
            "",
            table(header, rows),
        ]
    )
