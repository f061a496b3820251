#!/usr/bin/env python
"""Run a notebook for a batch of cases or parameter sets, each into its own run folder.

Examples (from the repository root)::

    # every case x seed, 2000 draws each, under runs/batch/
    uv run python scripts/run_batch.py notebooks/01_forecast.ipynb \
        --case data/belarus --seed 1 --seed 2 --seed 3 -p draws=2000 -p tune=1000

    # a list of jobs (see forecast.reruns.load_jobs for the format)
    uv run python scripts/run_batch.py --jobs jobs.toml

Each run lands in ``OUT/<case>-<notebook>-<UTC time>-seed<seed>/`` (``<notebook>`` is the notebook's
stem without its number, e.g. ``forecast``) with the executed notebook and what the notebook saved to
``out_dir``; an existing folder is never overwritten. Exit status 1 if any job failed.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecast.reruns import grid, load_jobs, run_batch  # noqa: E402


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook", nargs="?", help="the notebook to run for each case and seed")
    ap.add_argument("--case", action="append", default=[], help="a case folder (repeatable)")
    ap.add_argument("--seed", action="append", type=int, default=[], help="a seed (repeatable; default 0)")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="another notebook parameter for every job")
    ap.add_argument("--jobs", type=Path, help="a TOML file of [[job]] tables instead of notebook/--case/--seed")
    ap.add_argument("--out", type=Path, default=Path("runs/batch"), help="folder under which each run folder is made")
    args = ap.parse_args(argv)
    if args.jobs:
        jobs = load_jobs(args.jobs)
    else:
        if not args.notebook or not args.case:
            ap.error("give a notebook and at least one --case, or --jobs FILE")
        fixed = {}
        for p in args.param:
            name, sep, value = p.partition("=")
            if not sep:
                ap.error(f"-p {p!r}: expected NAME=VALUE")
            fixed[name.strip()] = _value(value.strip())
        jobs = grid(args.notebook, args.case, args.seed or [0], **fixed)
    outcomes = run_batch(jobs, args.out)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} of {len(outcomes)} runs written under {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
