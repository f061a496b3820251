"""Time whole `forecast` processes: `forecast --help` and a cold `forecast run data/belarus`.

"Cold" means a new Python process each time, as a scheduled job would start. Two variants of the
run are timed side by side in this one script:

- warm compile cache: the usual case on a machine that has run the model before;
- empty compile cache: PYTENSOR_FLAGS points pytensor at a new, empty compile directory, as on a
  fresh machine or in CI.

Prints the median of each and its ratio to `--help` (absolute times mean little on shared machines).

    python3 -m uv run python bench/cli_bench.py [--repeat 3]
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


def timed(args: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "forecast", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        run = ["run", "data/belarus", "--seed", "1", "--out", out]
        help_times = [timed(["--help"]) for _ in range(opts.repeat)]
        timed(run)  # make sure the on-disk caches are warm for the "warm" variant
        warm = [timed(run) for _ in range(opts.repeat)]
        cold = []
        for _ in range(opts.repeat):
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache}", "NUMBA_CACHE_DIR": cache}
                cold.append(timed(run, env))
    h, w, c = (statistics.median(x) for x in (help_times, warm, cold))
    print(f"forecast --help                          median {h:6.2f} s  (n={opts.repeat})")
    print(f"forecast run, warm compile cache         median {w:6.2f} s  = {w / h:5.1f}x --help")
    print(f"forecast run, empty compile cache (cold) median {c:6.2f} s  = {c / h:5.1f}x --help, {c / w:.2f}x warm")


if __name__ == "__main__":
    main()
