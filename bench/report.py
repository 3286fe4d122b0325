"""Render the tables of bench/RESULTS.md from the figures in bench/out/*.json.

Each table sits between `<!-- report:NAME -->` and `<!-- /report:NAME -->` in RESULTS.md and is
replaced as a whole; the prose around it is left alone. So after `make bench` on another machine,
`make bench-report` puts that machine's figures in, and nothing is copied by hand.

    python -m bench.report [--check]     (--check: exit 1 if RESULTS.md is not up to date)
"""

import argparse
import re
import sys

from bench.common import BENCH, OUT
from bench.report_against import AGAINST, against
from bench.report_format import SQL_PHASES, command, each_run, load, ms, table

RESULTS = BENCH / "RESULTS.md"


def machine() -> str:
    figures = next((f for f in map(load, ("ingest-threads4", "calls", "e2e", "sweep")) if f), None)
    if figures is None:
        return "_No figures yet: run `make bench`._"
    m = figures["machine"]
    rows = [
        ["date (UTC), first run", m["date_utc"]],
        ["CPU", f"{m['cpus']} × {m['cpu_model']}"],
        ["memory", f"{m['memory_gb']} GB"],
        ["Python", m["python"]],
        ["Django / django-q2", f"{m['django']} / {m['django-q2']}"],
        [
            "gunicorn / psycopg / twilio / redis-py",
            f"{m['gunicorn']} / {m['psycopg']} / {m['twilio']} / {m['redis']}",
        ],
        [
            "PostgreSQL",
            f"{m['postgresql']}, synchronous_commit {m['postgresql_synchronous_commit']}",
        ],  # fmt: skip
        ["Redis", m["redis_server"].split(" sha=")[0]],
        ["wrk", m["wrk"].split(" [")[0]],
    ]
    return table(["", ""], rows, numbers=False)


CPU_KEYS = ("web_cpu_ms_per_request", "db_cpu_ms_per_request", "client_cpu_ms_per_request")


def ingest() -> str:
    figures = load("ingest-threads4")
    if figures is None:
        return "_Not run yet: `make bench-ingest`._"
    summary = figures["summary"]
    rows = []
    for rate, median in summary["fixed_rate_median"].items():
        runs = [r for r in figures["fixed"] if str(r["offered_rps"]) == str(rate)]
        accepted = sum(r["accepted_events"] for r in runs)
        stored = sum(r["events_stored"] for r in runs)
        all_answered = all(set(r["statuses"]) == {"200"} for r in runs)
        cpu = " + ".join(
            f"{median[key]:.1f}"
            for key in (
                "web_cpu_ms_per_request",
                "db_cpu_ms_per_request",
                "client_cpu_ms_per_request",
            )
            if key in median
        )
        rows.append(
            [
                f"{float(rate):.0f} req/s offered",
                f"{median['achieved_rps']:.0f}",
                ms(median["p50_ms"]),
                ms(median["p95_ms"]),
                ms(median["p99_ms"]),
                each_run(runs),
                cpu if all_answered else "— (not all answered)",
                f"{accepted} → {stored}",
            ]
        )
    saturation = summary["saturation_median"]
    if isinstance(saturation, dict):
        runs = figures["saturation"]
        rows.append(
            [
                f"**saturation** (wrk -c{runs[0]['connections']})",
                f"**{saturation['rps']:.0f}**",
                ms(saturation["p50_ms"]),
                f"(p90) {ms(saturation['p90_ms'])}",
                ms(saturation["p99_ms"]),
                each_run(runs),
                "",
                f"{sum(r['requests'] - r['non_2xx'] for r in runs)} deliveries → "
                f"{sum(r['deliveries_stored'] for r in runs)}",
            ]
        )
    header = ["load", "served req/s", "p50", "p95", "p99", "p99 of each run (CPU steal)",
              "CPU ms/request (web + db + client)", "accepted events → stored"]  # fmt: skip
    stored = "yes" if summary["all_accepted_events_stored"] else "**NO**"
    kept = [run for run in figures["fixed"] if run.get("kept", True)]
    repeats = len(kept) // max(len(summary["fixed_rate_median"]), 1)
    text = [
        command(figures),
        f"gunicorn {summary['gunicorn']}; medians of {repeats} runs of each"
        + (
            f"; {len(figures['fixed']) - len(kept)} runs with more than "
            f"{figures['max_steal_percent']:.0f} % CPU steal were run again (struck out)."
            if "max_steal_percent" in figures
            else "."
        ),
        "",
        table(header, rows),
        "",
        f"Every accepted event stored: {stored} (stored exceeds accepted where the client gave "
        "up on a request after 10 s that the server still answered). "
        f"Peak RSS of a gunicorn worker: {summary['gunicorn_worker_peak_rss_mb']:.0f} MB.",
    ]
    profile = figures.get("profile") or {}
    if profile.get("inclusive"):
        inside = [line for line in profile["inclusive"] if _ours_or_db(line)][:12]
        text += ["", "Profile of one worker at the lowest rate (py-spy): share of samples inside a "
                 "function, then at the top of the stack:", "", "```", *inside, "---",
                 *profile["self"][:5], "```"]  # fmt: skip
    return "\n".join(text)


PROFILE_FRAMES = ("billing_events/", "connections/", "Connection.wait", "Atomic.__exit__",
                  "bulk_create", "QuerySet.create")  # fmt: skip


def _ours_or_db(line: str) -> bool:
    return any(part in line for part in PROFILE_FRAMES)


def calls() -> str:
    figures = load("calls")
    if figures is None:
        return "_Not run yet: `make bench-calls`._"
    naive = figures["naive"]
    rows = [
        [
            "naive (per event: GET invoice, GET contact, send)",
            f"**{naive['xero_requests']:,}**",
            "Invoices/{id}, Contacts/{id}",
            f"**{naive['xero_429']}** ({naive['events_lost_to_429']} events lost)",
            f"{naive['messages_sent']}",
            f"{naive['xero_requests'] / max(naive['messages_sent'], 1):.2f}",
            "1×",
        ]
    ]
    for result in figures["dunwell"]:
        kinds = ", ".join(f"{n} {k.removeprefix('GET ')}" for k, n in
                          sorted(result["xero_calls_by_kind"].items()))  # fmt: skip
        rows.append(
            [
                f"Dunwell, {result['scenario']}",
                f"**{result['xero_requests']:,}**",
                kinds,
                f"**{result['xero_429']}**",
                f"{result['twilio_messages']} (one per invoice)",
                f"{result['xero_calls_per_notification']:.2f}",
                f"**{result['fewer_xero_calls_than_naive']}× fewer**",
            ]
        )
    workload = figures["dunwell"][0]["workload"]
    imported = figures["import_once_per_organisation"]
    import_kinds = ", ".join(f"{n} {k.removeprefix('GET ')}" for k, n in
                             sorted(imported["xero_calls_by_kind"].items()))  # fmt: skip
    header = ["path", "Xero calls made", "by endpoint", "of which 429", "texts sent",
              "calls / text", "vs naive"]  # fmt: skip
    per_text = ", ".join(
        f"{r['scenario']} {r['sql_statements_per_text']}" for r in figures["dunwell"]
    )
    text = [
        command(figures),
        f"Workload: {workload['deliveries']} deliveries, {workload['events']} INVOICE events "
        f"for {workload['organisations_with_events']} organisations (the busiest got "
        f"{workload['max_events_one_organisation']}), {workload['unique_invoices']} distinct "
        "invoices.",
        "",
        table(header, rows),
        "",
        f"Once per organisation, when it is connected, the import: {imported['xero_calls']} "
        f"calls for {figures['organisations']} organisations ({import_kinds}), "
        f"{imported['xero_429']} 429s. SQL statements per text (store, process, dispatch): "
        f"{per_text}.",
    ]
    if "sql_statements_per_text_by_phase" in figures["dunwell"][0]:
        text += ["", "SQL statements per text on PostgreSQL, from the webhook's store to "
                 "Twilio's accept, by phase:", "", _sql_phases(figures["dunwell"])]  # fmt: skip
    return "\n".join(text)


def _sql_phases(results: list[dict]) -> str:
    rows = [
        [r["scenario"], *(f"{r['sql_statements_per_text_by_phase'][p]:.1f}" for p in SQL_PHASES),
         f"**{r['sql_statements_per_text']:.1f}**"]
        for r in results
    ]  # fmt: skip
    return table(["scenario", *SQL_PHASES.values(), "total"], rows)


def e2e(name: str = "e2e") -> str:
    figures = load(name)
    if figures is None:
        return f"_Not run yet: `make bench-{name}`._"
    names = {"sqlite-orm": "ORM / SQLite", "pg-orm": "ORM / PostgreSQL",
             "redis": "Redis / PostgreSQL"}  # fmt: skip
    rows = []
    for r in figures["results"]:
        if "error" in r:
            rows.append([names[r["config"]], r["q_workers"], "failed", "", "", "", "", "", ""])
            continue
        rows.append(
            [
                names[r["config"]],
                r["q_workers"],
                f"{r['messages_accepted']}/{r['expected_messages']}",
                f"{r['messages_per_second']:.1f}",
                f"{r['latency_p50_s']:.1f} s",
                f"{r['latency_p95_s']:.1f} s",
                r["xero_calls"],
                r["xero_429"],
                f"{max(r['qcluster_peak_rss_mb'].values()):.0f} MB",
            ]
        )
    first = next(r for r in figures["results"] if "error" not in r)
    header = ["broker / database", "q workers", "texts accepted", "texts/s",
              "webhook→Twilio p50", "p95", "Xero calls", "429s", "peak RSS, qcluster"]  # fmt: skip
    text = [
        command(figures),
        f"Offered: {first['offered_events_per_second']} events/s.",
        "",
        table(header, rows),
    ]
    counted = [r for r in figures["results"] if "sql_statements_per_text_by_phase" in r]
    if counted:
        phases = {**SQL_PHASES, "broker": "broker (django-q2's own)"}
        sql_rows = [
            [names[r["config"]], r["q_workers"],
             *(f"{r['sql_statements_per_text_by_phase'][p]:.1f}" for p in phases),
             f"**{r['sql_statements_per_text']:.1f}**"]
            for r in counted
        ]  # fmt: skip
        header = ["broker / database", "q workers", *phases.values(), "total"]
        text += ["", "SQL statements per text accepted, counted in every gunicorn and qcluster "
                 "process (`--count-sql`, bench/sqlcount.py), by phase:", "",
                 table(header, sql_rows)]  # fmt: skip
    return "\n".join(text)


def sweep() -> str:
    figures = load("sweep")
    if figures is None or "results" not in figures:
        return "_Not run yet: `make bench-sweep`._"
    rows = []
    for r in figures["results"]:
        imported = r["import"]
        rows.append(
            [
                f"{r['organisations']} × {r['open_invoices_each']}",
                f"{r['open_invoices']:,}",
                f"{imported['xero_calls']} / {imported['seconds']:.0f} s",
                f"{r['reminders_due']:,}",
                f"**{r['sweep_xero_calls']}** ({r['max_xero_calls_one_organisation']} max "
                "per organisation)",
                r["sweep_xero_429"],
                f"{r['sweep_passes']} ({r['max_passes_one_organisation']} max per organisation)",
                f"**{r['sweep_seconds']:.0f} s**",
                f"{r['ms_per_reminder']:.0f} ms",
            ]
        )
    header = ["organisations × open invoices", "invoices", "import: Xero calls / time",
              "reminders due today", "sweep: Xero calls", "429s", "passes", "sweep time",
              "per reminder"]  # fmt: skip
    return "\n".join([command(figures), "", table(header, rows)])


def latency() -> str:
    figures = load("latency")
    if figures is None:
        return "_Not run yet: `make bench-latency`._"
    names = {"sqlite-orm": "SQLite, ORM broker (the embedded default)",
             "redis": "PostgreSQL, Redis broker"}  # fmt: skip
    rows = []
    for r in figures["results"]:
        if "error" in r:
            rows.append([names[r["config"]], "failed", "", "", "", ""])
            continue
        rows.append(
            [
                names[r["config"]],
                f"{r['texts_accepted']}/{r['invoices']}",
                ms(1000 * r["latency_p50_s"]),
                f"**{ms(1000 * r['latency_p95_s'])}**",
                ms(1000 * r["latency_max_s"]),
                r["xero_429"],
            ]
        )
    header = ["configuration", "texts accepted", "webhook→Twilio p50", "p95", "max", "429s"]
    return "\n".join([command(figures), "", table(header, rows)])


def scaleout() -> str:
    figures = load("scaleout")
    if figures is None:
        return "_Not run yet: `make bench-scaleout`._"
    rows = []
    for r in figures["results"]:
        if "error" in r:
            rows.append([r["pools"], "failed", "", "", "", "", ""])
            continue
        rows.append(
            [
                f"{r['pools']} × {r['q_workers_per_pool']} workers",
                f"{r['messages_accepted']}/{r['expected_messages']}",
                f"**{r['messages_per_second']:.1f}**",
                f"{r['seconds_to_last_text']:.0f} s",
                r["xero_calls"],
                f"**{r['xero_429']}**",
                f"**{r['max_xero_requests_any_60s_one_organisation']}**",
            ]
        )
    first = next((r for r in figures["results"] if "error" not in r), None)
    header = ["pools", "texts accepted", "texts/s", "first POST → last text", "Xero calls",
              "429s", "most Xero requests, one organisation, any 60 s"]  # fmt: skip
    text = [command(figures)]
    if first:
        w = first["workload"]
        text.append(
            f"Workload: {w['deliveries']} deliveries ({w['events']} events, {w['unique_invoices']} "
            f"invoices) for {w['organisations_with_events']} organisations (the busiest got "
            f"{w['max_events_one_organisation']} events), POSTed over "
            f"{first['posting_seconds']:.0f} s."
        )
    held = "yes" if figures.get("budget_held") else "**NO**"
    ratio = figures.get("two_pools_over_one")
    text += [
        "",
        table(header, rows),
        "",
        f"Two pools ÷ one: **{ratio}×** texts/s. Budget of 60 Xero calls a minute per "
        f"organisation held across the pools (zero 429s, at most 60 in any 60 s): {held}.",
    ]
    return "\n".join(text)


# Which figures of a benchmark's JSON are compared side by side (bench/against.py), as
# (label, value) pairs; a run that failed gives none.
def workspace() -> str:
    figures = load("workspace")
    if figures is None or "pages" not in figures:
        return "_Not run yet: `make bench-workspace`._"
    rows = [
        [
            name,
            f"**{ms(page['p50_ms'])}**",
            ms(page["p95_ms"]),
            page["sql_statements"],
            f"{ms(page['without_indexes_p50_ms'])} / {ms(page['without_indexes_p95_ms'])}",
            f"{page['ratio_p50']:.1f}×",
        ]
        for name, page in figures["pages"].items()
    ]
    header = ["page", "p50", "p95", "SQL statements", "without the indexes: p50 / p95",
              "p50 ratio"]  # fmt: skip
    deep = figures["deep_page_query"]
    paging = table(
        ["the page's query at row " + f"{deep['row']:,}", "p50", "p95"],
        [
            ["keyset (`(due_date, id) > cursor`)", ms(deep["keyset_p50_ms"]),
             ms(deep["keyset_p95_ms"])],
            ["OFFSET (naive)", ms(deep["offset_p50_ms"]), ms(deep["offset_p95_ms"])],
        ],
    )  # fmt: skip
    sizes = (
        f"{figures['invoices']:,} invoices in {figures['organisations']} organisations, "
        f"{figures['contacts']:,} contacts, {figures['messages']:,} messages; "
        f"{figures['requests_per_page']} requests per page (CSV: fewer)."
    )
    return "\n".join([command(figures), "", sizes, "", table(header, rows), "", paging])


def memory() -> str:
    ingest, e2e_figures = load("ingest-threads4"), load("e2e")
    rows = []
    if ingest:
        rows.append(["gunicorn worker, after the ingest runs",
                     f"{ingest['summary']['gunicorn_worker_peak_rss_mb']:.0f} MB"])  # fmt: skip
    if e2e_figures:
        results = [r for r in e2e_figures["results"] if "error" not in r]
        web = [r.get("gunicorn_worker_peak_rss_mb", 0) for r in results]
        cluster = [v for r in results for v in r["qcluster_peak_rss_mb"].values()]
        rows.append(["gunicorn worker, end to end", f"{max(web):.0f} MB"])
        rows.append(
            [
                "qcluster processes (parent, sentinel, monitor, pusher, workers), end to end",
                f"{min(cluster):.0f}–{max(cluster):.0f} MB each",
            ]  # fmt: skip
        )
    if not rows:
        return "_Not run yet._"
    return table(["process", "peak RSS (VmHWM)"], rows)


SECTIONS = {"machine": machine, "ingest": ingest, "calls": calls, "e2e": e2e,
            "burst": lambda: e2e("burst"), "sweep": sweep,
            "latency": latency, "scaleout": scaleout, "workspace": workspace, "memory": memory,
            **{f"against-{name}": (lambda n=name: against(n)) for name in AGAINST}}  # fmt: skip


def render(text: str) -> str:
    for name, section in SECTIONS.items():
        pattern = re.compile(rf"(<!-- report:{name} -->\n).*?(<!-- /report:{name} -->)", re.DOTALL)
        text = pattern.sub(lambda m, s=section: m.group(1) + s() + "\n" + m.group(2), text)
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    before = RESULTS.read_text()
    after = render(before)
    if args.check:
        sys.exit(0 if after == before else 1)
    RESULTS.write_text(after)
    print(f"{RESULTS} rendered from {OUT}/*.json")


if __name__ == "__main__":
    main()
