"""Run a benchmark side by side: this commit and another one, interleaved, in one invocation.

The other commit is checked out into a temporary `git worktree` (under /tmp, removed at the
end), with this commit's bench/ copied over its own, so both sides are driven by the same
harness with the same settings; only the application code differs. Both use the shared venv
(the other worktree's .venv is a link to this one's), and the other side's databases get a
suffix of their own (BENCH_DB_SUFFIX), as its migrations may differ.

Runs alternate this/other/this/other… (`--rounds` pairs), so that a host busy for a minute
costs both sides alike. Each side's runs are kept whole in bench/out/<name>-against.json;
bench/report.py renders each figure's median for both and the ratio. This side's last run is
also written to bench/out/<name>.json, as the benchmark alone would.

    python -m bench.against [--rev HEAD~1] [--rounds 2] NAME [ARGS…]
    python -m bench.against --rev main calls --events 200 --organisations 40

With `--rev ''` it runs the benchmark once, here, with no other side.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench import common

SUFFIX = "_against"


def _git(*args: str, cwd=common.ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@contextmanager
def worktree_at(rev: str):
    """The application code of `rev`, driven by this commit's bench/, in a temporary worktree."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    path = Path(tempfile.mkdtemp(prefix=f"bench-against-{sha[:10]}-"))
    _git("worktree", "add", "--detach", "--force", str(path), sha)
    try:
        shutil.rmtree(path / "bench", ignore_errors=True)
        shutil.copytree(
            common.BENCH, path / "bench", ignore=shutil.ignore_patterns("out", "__pycache__")
        )
        (path / ".venv").unlink(missing_ok=True)
        (path / ".venv").symlink_to((common.ROOT / ".venv").resolve())
        yield sha, path
    finally:
        _git("worktree", "remove", "--force", str(path))
        shutil.rmtree(path, ignore_errors=True)


def run_side(root: Path, name: str, args: list[str], *, output: str, suffix: str) -> dict:
    """One run of `python -m bench.<name> args` with its code at `root`; the JSON it wrote to
    bench/out/<output>.json there."""
    out = root / "bench" / "out" / f"{output}.json"
    out.unlink(missing_ok=True)
    environment = {**os.environ, "BENCH_DB_SUFFIX": suffix}
    started = time.monotonic()
    done = subprocess.run(
        [common.PYTHON, "-m", f"bench.{name}", *args],
        cwd=root, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode or not out.exists():
        return {"error": (done.stderr or done.stdout)[-3000:]}
    figures = json.loads(out.read_text())
    figures["wall_seconds"] = round(time.monotonic() - started, 1)
    return figures


def _output_name(name: str, args: list[str]) -> str:
    """What bench.<name> writes: ingest names its file after its thread count, e2e after
    --record."""
    if name == "ingest":
        threads = args[args.index("--threads") + 1] if "--threads" in args else "4"
        return f"ingest-threads{threads}"
    if "--record" in args:  # bench.e2e --record burst
        return args[args.index("--record") + 1]
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD~1", help="the other commit ('' for none)")
    parser.add_argument("--rounds", type=int, default=1, help="this/other pairs, interleaved")
    parser.add_argument("name", help="the benchmark: calls, e2e, latency, scaleout, sweep…")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    if not options.rev:
        sys.exit(
            subprocess.run([common.PYTHON, "-m", f"bench.{options.name}", *options.args]).returncode
        )
    output = _output_name(options.name, options.args)
    this_sha = _git("rev-parse", "HEAD")
    dirty = bool(
        _git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!bench/out",
            ":!bench/RESULTS.md",
        )
    )
    rounds = []
    with worktree_at(options.rev) as (sha, other):
        for number in range(options.rounds):
            pair = {}
            # Alternate which side goes first, so neither always follows the other's load.
            order = ("this", "other") if number % 2 == 0 else ("other", "this")
            for side in order:
                root, suffix = (common.ROOT, "") if side == "this" else (other, SUFFIX)
                pair[side] = run_side(
                    root, options.name, options.args, output=output, suffix=suffix
                )
                print(f"round {number + 1} {side}: "
                      + ("error" if "error" in pair[side] else "done"), flush=True)  # fmt: skip
            rounds.append(pair)
    common.record(
        f"{output}-against",
        {
            "benchmark": options.name,
            "args": options.args,
            "this": {"rev": "HEAD", "sha": this_sha, "uncommitted_changes": dirty},
            "other": {"rev": options.rev, "sha": sha},
            "rounds": rounds,
        },
    )
    if any("error" in side for pair in rounds for side in pair.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
