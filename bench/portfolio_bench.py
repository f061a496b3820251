"""How fast a portfolio runs on 1, 2, ... local Dask workers: questions per second and the speed-up.

    .venv/bin/python bench/portfolio_bench.py [--questions 200] [--workers 1 2] [--draws 1000] [--seed 0]

It writes ``--questions`` synthetic questions (:mod:`forecast.case.synthetic`, 4 indicators each,
so one model structure) into a temporary folder, then for each worker count runs the whole
portfolio task on every question (load, fit with nutpie, write the run folder with the report and
the summary; :func:`forecast.portfolio.run_portfolio`) into a fresh portfolio folder, and prints
questions per second and the speed-up over one worker.

What is timed, and what is not: the compile cache (:mod:`forecast.model.compile`) is warmed
before anything is timed (one compile in this process; the first compile of a structure on a
machine is paid once, and never in the timings), and each worker loads the compiled model once
before the clock starts (:func:`forecast.analysis.parallel.compiled_for` on every worker, and the
report's imports), so the timings are the steady state of a portfolio: the cost per question.
Cluster start-up and that per-worker load are printed separately.

Timings on a shared machine are noisy, so the workers' CPU seconds are measured too: the share of a
core each worker actually got, and the speed-up to expect on an idle machine with a core per worker,
``n * (CPU per question with 1 worker) / (CPU per question with n workers)``, which is 2 when adding
a worker adds no work. Run it when the machine is quiet, and read one run as an indication.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def warm_worker(folder: str) -> float:
    """Load (or compile) the compiled model of the case in ``folder`` in this worker, and import what
    the report needs (one-time costs of a worker process); return the seconds it took."""
    import arviz  # noqa: F401
    import matplotlib.pyplot  # noqa: F401

    import forecast.output.report  # noqa: F401
    from forecast.analysis.parallel import compiled_for
    from forecast.case.load import load_case

    start = time.perf_counter()
    compiled_for(load_case(folder))
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """User + system CPU seconds this process has used, all its threads together."""
    import psutil

    t = psutil.Process().cpu_times()
    return t.user + t.system


def main(argv=None) -> int:
    from forecast.analysis.parallel import cluster, local_workers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=None, help="worker counts (default: 1, 2 and the number of cores if more)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    counts = args.workers or sorted({1, 2, local_workers()})

    from forecast.case.synthetic import write_cases
    from forecast.model.fit import FitSettings
    from forecast.portfolio import run_portfolio

    settings = FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="portfolio-bench-") as tmp:
        cases = write_cases(Path(tmp) / "cases", args.questions, seed=args.seed, resolved=0.5)
        start = time.perf_counter()
        warm_worker(str(cases[0]))
        print(f"{args.questions} synthetic questions; {local_workers()} cores; settings {settings}")
        print(f"compile cache warmed in this process: {time.perf_counter() - start:.1f} s (the one compile of the structure; not timed below)")
        rates, cpu_per_q = {}, {}
        for n in counts:
            start = time.perf_counter()
            with cluster(workers=n) as client:
                up = time.perf_counter() - start
                loads = client.run(warm_worker, str(cases[0]))
                cpu0 = client.run(cpu_seconds)
                start = time.perf_counter()
                result = run_portfolio([Path(tmp) / "cases"], Path(tmp) / f"out-{n}", settings, client=client, progress=False)
                seconds = time.perf_counter() - start
                cpu = sum(client.run(cpu_seconds).values()) - sum(cpu0.values())
            rates[n], cpu_per_q[n] = args.questions / seconds, cpu / args.questions
            c = result.counts()
            print(f"{n} worker(s): {seconds:.1f} s for {c['total']} questions ({c['fitted']} fitted, {c['failed']} failed or not converged): "
                  f"{rates[n]:.2f} questions/s; worker CPU {cpu_per_q[n]:.2f} s per question, each worker got "
                  f"{cpu / seconds / n:.0%} of a core; cluster start {up:.1f} s, model load per worker "
                  + ", ".join(f"{v:.1f} s" for v in loads.values()) + " (not timed)", flush=True)
        if 1 in rates:
            for n in counts:
                if n != 1:
                    print(f"speed-up 1 -> {n} workers: {rates[n] / rates[1]:.2f}x measured (goal on 2 cores: 1.7x or more); "
                          f"{n * cpu_per_q[1] / cpu_per_q[n]:.2f}x expected on an idle machine with a core per worker "
                          "(from the CPU seconds per question)")
    import os

    print(f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end: the machine may be shared with other "
          "work, so these figures are noisy; 'of a core' above says how much CPU each worker actually got.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
