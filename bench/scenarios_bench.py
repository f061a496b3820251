"""Benchmark: 1,000 input-only scenarios on the posterior vs refitting each one.

Fits the Belarus case once (4 chains x 1,000 draws by default), makes 1,000 random input-only scenarios
(each sets or shifts the level of 1-3 indicators and sometimes rescales a weight), and evaluates them
all with forecast.analysis.scenarios.evaluate_batch: mean, median and 90 % HDI of P for every scenario,
vectorised over draws and scenarios. Then it refits a few scenarios with the same compiled model
(forecast.model.fit.sample, the refit path) and scales that time to 1,000 for the speed-up.

    .venv/bin/python bench/scenarios_bench.py [--scenarios 1000] [--refits 3] [--draws 1000]

Goal: 1,000 input-only scenarios in under a second.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def random_changes(case, rng, n):
    from forecast.case.scenarios import ScenarioChange

    ids = case.indicator_ids
    out = []
    for _ in range(n):
        changes = []
        for k in rng.choice(ids, size=rng.integers(1, 4), replace=False):
            if rng.random() < 0.6:
                changes.append(ScenarioChange("set_level", str(k), float(rng.random()), "set"))
            else:
                changes.append(ScenarioChange("shift_level", str(k), float(rng.uniform(-0.3, 0.3)), "shift"))
            if rng.random() < 0.3:
                changes.append(ScenarioChange("weight", str(k), float(rng.uniform(0.5, 2.0)), "weight"))
        out.append(changes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--refits", type=int, default=3)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import forecast as fc
    from forecast.model.fit import compile_case, sample
    from forecast.model.draws import Draws, Edits, evaluate_batch
    from forecast.case.scenarios import Scenario, apply_to_case, resolve

    case = fc.load_case(ROOT / "data" / "belarus")
    settings = fc.FitSettings(draws=args.draws, tune=1000, chains=4, seed=1)
    t0 = time.perf_counter()
    compiled = compile_case(case)
    t_compile = time.perf_counter() - t0
    baseline = sample(compiled, case, settings, progress=False)
    draws = Draws.from_forecast(baseline)
    print(f"posterior: {draws.base.size:,} draws x {len(case.indicators)} indicators (compile {t_compile:.1f} s, once)")

    rng = np.random.default_rng(0)
    coalitions = random_changes(case, rng, args.scenarios)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        edits = Edits.from_changes(draws, coalitions)
        table = evaluate_batch(draws, edits)
        times.append(time.perf_counter() - t0)
    best, median = min(times), float(np.median(times))
    assert len(table) == args.scenarios and table["mean"].between(0, 1).all()
    print(f"input-only: {args.scenarios:,} scenarios (mean, median, 90 % HDI each) in {median:.3f} s median of {args.repeats} "
          f"(best {best:.3f} s) = {median / args.scenarios * 1e6:.0f} µs per scenario "
          f"[goal: {args.scenarios:,} in < 1 s: {'met' if median < 1.0 else 'NOT met'}]")

    refit_times = []
    for i in range(args.refits):
        level = float(rng.random())
        sc = Scenario(id=f"r{i}", name="refit", description="bench", readings=[
            {"indicator": case.indicator_ids[i % len(case.indicator_ids)], "level": level, "rationale": "bench"}])
        t0 = time.perf_counter()
        sample(compiled, apply_to_case(case, resolve(sc, case), sc), settings, progress=False)
        refit_times.append(time.perf_counter() - t0)
    per_refit = float(np.median(refit_times))
    per_eval = median / args.scenarios
    print(f"refit (compiled once, with_data + nutpie sample): {per_refit:.3f} s per scenario (median of {args.refits}); "
          f"{args.scenarios:,} would take ~{per_refit * args.scenarios:.0f} s")
    print(f"speed-up of input-only evaluation over refitting: ~{per_refit / per_eval:,.0f}x")


if __name__ == "__main__":
    main()
