"""The forecast of a case under each step of the evidence model, one change at a time.

Each row adds one change to the row above and refits the same compiled model with new data
(``with_data``: every step is a change of ``pm.Data``, not of the model):

1. bounded readings: readings on the log-odds scale, independent given static levels, the base
   rate at neutral levels (no source errors, no random walk, no centring, the stated base prior);
2. + shared (source, indicator) errors (``source_correlation``, ``interested_source_sd``, ``stance``);
3. + moving levels (``level_volatility``: the random walk since each reading's date);
4. + the base rate centred on the reference class (``level_centre``);
5. + a base rate judged from the reference cases widened (``elicited_from``): the case as written.

Prints, per row, the posterior mean of P with its Monte Carlo standard error (sd / sqrt(ESS)), the
90 % HDI, and the prior's implied class rate over the reference cases beside the observed one.

    uv run python bench/model_changes.py [--case data/belarus] [--seed 1] [--draws 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def variants(case):
    """``(label, case, override)`` for each cumulative step; ``override`` replaces model inputs."""
    rate = case.spec.base_rate

    def spec(**model):
        s = case.spec.model_copy(deep=True)
        for k, v in model.items():
            setattr(s.model, k, v)
        s.base_rate.elicited_from = "other_knowledge"
        if model.get("level_volatility") == 0.0:
            for ind in s.indicators:
                ind.volatility = 0.0
        return dataclasses.replace(case, spec=s)

    zero = {"level_centre": np.zeros(len(case.indicators))}
    still = dict(source_correlation=0.0, interested_source_sd=0.0, level_volatility=0.0)
    return [
        ("1 bounded readings, static levels, independent sources", spec(**still), zero),
        ("2 + shared (source, indicator) errors", spec(level_volatility=0.0), zero),
        ("3 + moving levels (random walk)", spec(), zero),
        ("4 + base rate centred on the reference class", spec(), {}),
        (f"5 + base rate judged from reference cases ({rate.elicited_from})", case, {}),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default=str(ROOT / "data" / "belarus"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args(argv)

    from arviz_stats import ess

    from forecast import load_case
    from forecast.model.draws import hdi
    from forecast.model.fit import FitSettings, compile_case, draw
    from forecast.model.model import model_inputs
    from forecast.model.simulate import class_rate

    case = load_case(args.case)
    settings = FitSettings(draws=args.draws, tune=args.draws, chains=4, seed=args.seed)
    compiled = compile_case(case)
    print(f"{case.id}: {len(case.readings)} readings, {len(case.reference_cases)} reference cases, "
          f"{len(case.judgments)} judgments; 4 chains x {args.draws} draws, seed {args.seed}\n")
    print(f"{'step':58s} {'P mean':>8s} {'MCSE':>7s} {'90% HDI':>16s} {'prior class rate':>18s}")
    for label, variant, override in variants(case):
        inputs = {**model_inputs(variant), **override}
        tree = draw(compiled, inputs, settings)
        p = np.asarray(tree["posterior"]["p"])
        mcse = float(p.std() / np.sqrt(float(ess(p, method="bulk"))))
        lo, hi = hdi(p.ravel())
        rate = class_rate(variant, inputs=inputs)
        rate_text = f"{rate['prior_mean']:.2f} vs {rate['observed']:.2f}"
        print(f"{label:58s} {p.mean():8.4f} {mcse:7.4f} [{float(lo):.3f}, {float(hi):.3f}] {rate_text:>18s}")


if __name__ == "__main__":
    main()
