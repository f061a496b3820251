"""Simulation-based calibration (Talts et al. 2018) of the forecast model on a case's design.

    .venv/bin/python bench/sbc.py [CASE_DIR] [--sims 500] [--seed 2026]

For each simulation: draw the parameters from the prior, simulate every observation of the case
(readings, reference-case outcomes, judgments) from them with the case's design, fit the compiled
model to the simulated data (``with_data``: one compile for all simulations), thin the posterior to
L = 99 nearly independent draws and record the rank of the true value among them (0..99). If the
inference is right, every parameter's ranks are uniform. Each rank histogram (10 bins of 10 ranks)
gets a chi-square test with 9 degrees of freedom; the verdict is PASS when no test rejects at the
1 % level. With 13 tests, about one run in eight would show one rejection by chance alone, so the
Bonferroni-adjusted family verdict (smallest p-value against 0.01 / 13) is printed too.

Parameters tested: ``base``, each ``weight`` and ``p``. The levels are measured directly by the
readings; the base and weights are what the new likelihoods (reference cases, judgments) inform.
It runs in a few minutes on two cores (2 chains x 495 draws after 300 warm-up per simulation).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

L = 99
BINS = 10
ALPHA = 0.01


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_dir", nargs="?", default=str(ROOT / "data" / "belarus"))
    parser.add_argument("--sims", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=None, help="optional CSV of the ranks")
    args = parser.parse_args(argv)

    import nutpie
    from scipy.stats import chisquare

    from forecast import load_case
    from forecast.model.fit import compile_case
    from forecast.model.model import model_inputs
    from forecast.model.simulate import draw_prior, simulate_inputs

    case = load_case(args.case_dir)
    inputs = model_inputs(case)
    k = len(case.indicators)
    names = ["base", *[f"weight[{i}]" for i in case.indicator_ids], "p"]
    t0 = time.time()
    compiled = compile_case(case)
    print(f"compiled in {time.time() - t0:.0f} s; {args.sims} simulations of {case.id}: {len(case.readings)} readings, "
          f"{len(case.reference_cases)} reference cases, {len(case.judgments)} judgments", flush=True)
    rng = np.random.default_rng(args.seed)
    ranks = np.zeros((args.sims, len(names)), dtype=int)
    divergences = 0
    t0 = time.time()
    for s in range(args.sims):
        truth = draw_prior(inputs, rng)
        data = simulate_inputs(inputs, truth, rng)
        tree = nutpie.sample(compiled.with_data(**data), draws=495, tune=300, chains=2, cores=2,
                             seed=int(rng.integers(2**31)), save_warmup=False, progress_bar=False)
        post = tree["posterior"]
        divergences += int(tree["sample_stats"]["diverging"].sum())
        draws = {
            "base": post["base"].values.reshape(-1),
            "weight": post["weight"].values.reshape(-1, k),
            "p": post["p"].values.reshape(-1),
        }
        keep = np.linspace(0, draws["base"].size - 1, L).round().astype(int)
        row = [int((draws["base"][keep] < truth["base"]).sum())]
        row += [int((draws["weight"][keep, i] < truth["weight"][i]).sum()) for i in range(k)]
        row += [int((draws["p"][keep] < truth["p"]).sum())]
        ranks[s] = row
        if (s + 1) % 50 == 0:
            print(f"  {s + 1} simulations, {time.time() - t0:.0f} s", flush=True)

    print(f"\n{args.sims} simulations in {time.time() - t0:.0f} s, {divergences} divergent transitions in all\n")
    print(f"{'parameter':<32} {'chi2':>7} {'p-value':>8}  rank histogram ({BINS} bins, expected {args.sims / BINS:.0f} each)")
    pvalues = []
    for j, name in enumerate(names):
        counts = np.bincount(ranks[:, j] * BINS // (L + 1), minlength=BINS)
        stat, pval = chisquare(counts)
        pvalues.append(pval)
        flag = "  REJECTED" if pval < ALPHA else ""
        print(f"{name:<32} {stat:7.2f} {pval:8.3f}  {' '.join(f'{c:3d}' for c in counts)}{flag}")
    pvalues = np.array(pvalues)
    rejected = [n for n, p in zip(names, pvalues) if p < ALPHA]
    family = pvalues.min() < ALPHA / len(names)
    print()
    print(f"smallest p-value {pvalues.min():.3f} ({names[int(pvalues.argmin())]}); Bonferroni threshold {ALPHA / len(names):.4f}: "
          f"family {'REJECTED' if family else 'not rejected'}")
    verdict = "PASS" if not rejected else "FAIL"
    print(f"SBC verdict: {verdict} (no rank histogram rejected at the 1 % level)" if not rejected
          else f"SBC verdict: {verdict}: rejected at the 1 % level: {', '.join(rejected)}")
    if args.out:
        import pandas as pd

        pd.DataFrame(ranks, columns=names).to_csv(args.out, index=False)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
