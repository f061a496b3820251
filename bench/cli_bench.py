"""Time whole `forecast run` processes: warm, fresh environment, today's stock compile path, and the floor.

Each variant is a new Python process, as a scheduled job would start, running
``forecast run CASE --seed 1``. The variants are interleaved (one of each per round, the order
rotating) so that a busy machine slows them alike:

- warm: the sampler's compile cache (``FORECAST_CACHE_DIR``) and PyTensor's compile folder hold
  this model from an earlier process;
- fresh: both point at new, empty folders (``PYTENSOR_FLAGS=base_compiledir=...``,
  ``FORECAST_CACHE_DIR``, ``NUMBA_CACHE_DIR``), as on a new machine or in CI;
- stock: ``FORECAST_COMPILE_CACHE=off``, i.e. ``nutpie.compile_pymc_model`` as before the cache
  (PyTensor's own cache warm);
- floor: the warm process less the time (and CPU time) it spent in ``compile_case``, measured
  inside the same process: imports, loading, sampling, charts and exit, the part no compile cache
  can remove. The libraries no run can sample without (pymc, nutpie, numba) are imported before
  the timed call, so the floor counts their imports and ``compile_case`` is building the model
  and compiling (or loading) the sampler only.

Prints, for each, the median wall time and CPU time (user + system, from ``os.wait4``: less
sensitive to other load than wall time), the peak resident memory of the process, and the
ratios warm / stock and warm / floor (goals: at most 0.3 and 1.5).

    uv run python bench/cli_bench.py [--repeat 3] [--case data/belarus]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DRIVER = """
import os, sys, time
import numba, nutpie, pymc
import forecast.model.fit as fit
from forecast.cli import app
real = fit.compile_case
def timed(case):
    start, cpu = time.perf_counter(), time.process_time()
    try:
        return real(case)
    finally:
        with open(os.environ["BENCH_COMPILE_FILE"], "w") as f:
            f.write(f"{time.perf_counter() - start} {time.process_time() - cpu}")
fit.compile_case = timed
sys.argv = ["forecast", *sys.argv[1:]]
app()
"""
"""``forecast`` with ``compile_case`` timed: the process is the CLI's (the sampler's libraries imported
first rather than inside ``compile_case``), plus one file write."""


def run(args: list[str], env: dict) -> dict:
    """One whole process: wall seconds, CPU seconds, peak RSS (MB) and seconds spent compiling."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as note:
        env = {**env, "BENCH_COMPILE_FILE": note.name}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, *args], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"forecast {' '.join(args)} failed:\n{err}")
        compile_s, compile_cpu = (float(x) for x in (note.read() or "nan nan").split())
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "compile": compile_s, "compile_cpu": compile_cpu, "stderr": err}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", default="data/belarus")
    opts = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("FORECAST_CACHE_DIR", "FORECAST_COMPILE_CACHE", "PYTENSOR_FLAGS", "NUMBA_CACHE_DIR")}
    with tempfile.TemporaryDirectory() as work:
        out, cache = Path(work) / "runs", Path(work) / "sampler"
        args = ["run", opts.case, "--seed", "1", "--out", str(out)]
        warm_env = {**base, "FORECAST_CACHE_DIR": str(cache)}
        run(args, warm_env)  # fill the caches for "warm"
        results: dict[str, list[dict]] = {"warm": [], "fresh": [], "stock": []}
        order = list(results)
        for r in range(opts.repeat):
            for name in order[r % 3 :] + order[: r % 3]:
                if name == "fresh":
                    with tempfile.TemporaryDirectory() as empty:
                        env = {**base, "PYTENSOR_FLAGS": f"base_compiledir={empty}/pytensor",
                               "FORECAST_CACHE_DIR": f"{empty}/sampler", "NUMBA_CACHE_DIR": f"{empty}/numba"}
                        res = run(args, env)
                else:
                    res = run(args, warm_env if name == "warm" else {**base, "FORECAST_COMPILE_CACHE": "off"})
                if "compiling normally" in res["stderr"]:
                    print(f"note: the {name} run fell back: {res['stderr'].strip().splitlines()[-1]}")
                results[name].append(res)
                print(f"round {r + 1} {name:<5} wall {res['wall']:6.2f} s  cpu {res['cpu']:6.2f} s  compile {res['compile']:6.2f} s  peak {res['rss']:5.0f} MB", flush=True)
    results["floor"] = [{**x, "wall": x["wall"] - x["compile"], "cpu": x["cpu"] - x["compile_cpu"]} for x in results["warm"]]

    def med(name, what):
        return statistics.median(x[what] for x in results[name])

    print(f"\n{opts.case}, {opts.repeat} rounds, medians:")
    for name, label in [("warm", "warm (compile cache hit)"), ("fresh", "first run, fresh environment"),
                        ("stock", "stock nutpie compile (today)"), ("floor", "floor: warm less compile_case")]:
        cpu = f"  cpu {med(name, 'cpu'):6.2f} s"
        rss = "" if name == "floor" else f"  peak memory {max(x['rss'] for x in results[name]):5.0f} MB"
        print(f"  {label:<32} wall {med(name, 'wall'):6.2f} s{cpu}{rss}")
    print(f"  compile_case inside the warm run: {med('warm', 'compile'):.2f} s; inside the stock run: {med('stock', 'compile'):.2f} s")
    print(f"ratios: warm / stock {med('warm', 'wall') / med('stock', 'wall'):.2f} (goal <= 0.3; cpu {med('warm', 'cpu') / med('stock', 'cpu'):.2f})"
          f", warm / floor {med('warm', 'wall') / med('floor', 'wall'):.2f} (goal <= 1.5; cpu {med('warm', 'cpu') / med('floor', 'cpu'):.2f})"
          f", fresh / stock {med('fresh', 'wall') / med('stock', 'wall'):.2f}")


if __name__ == "__main__":
    main()
