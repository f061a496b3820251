"""Simulation-based calibration (Talts et al. 2018) with a simulator written apart from the model code.

    .venv/bin/python bench/sbc.py [--case second|CASE_DIR] [--sims 500] [--draws 200] [--seed 2026] [--out DIR]

For each simulation ``s``: draw the parameters from the prior and simulate everything the model
observes with :mod:`independent` (which never imports the model code): each level's Brownian walk
back from the forecast date to its readings' dates, one shared error per (source, indicator), each
reading's own noise, the reference outcomes (uncoded levels drawn from their prior) and the
judgments with their shared error. The simulated readings are written into a copy of the case as
levels ``expit(z)`` (not rounded to words; the model clips them to [0.05, 0.95] before the logit),
the outcomes as ``yes``/``no``, and each judgment as a range of the same width on the log-odds scale
around its simulated centre. The copy is fitted through the toolkit's public path (one
:func:`forecast.model.fit.compile_case`, then :func:`forecast.model.fit.sample` per simulation: a
``with_data`` swap) and the posterior thinned to ``L = 99`` draws; the rank of the true value among
them (0..99) is recorded for ``base_class``, each weight, each level and ``p``.

If the inference is right, each parameter's ranks are uniform. Each histogram (10 bins of 10 ranks)
gets a chi-square test with 9 degrees of freedom; with ``n`` parameters the smallest p-value is
compared with the Bonferroni threshold ``0.01 / n``. Readings simulated outside [0.05, 0.95] are
clipped by the model but not by the simulator: the share of simulations with a clipped reading is
reported, and the ranks of the levels are tested again on the simulations without one.

``--case second`` (the default) is the tests' second case (``tests/helpers.py``) with four reference
cases (one coded on two indicators only), two judgments and one interested source, so that every
part of the likelihood is simulated. The per-simulation work is :func:`run_one`, a top-level
function of picklable arguments, mapped on a local Dask cluster (``--workers``), an existing one
(``--scheduler``) or, with ``--serial``, one after another in this process.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import special

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import independent as ind  # noqa: E402

L = 99
BINS = 10
ALPHA = 0.01
EDGE = 0.05

JUDGMENTS_CSV = """id,date,source,quote,probability,sd,rationale
union-view,2025-02-03,gazette-2025-02-03,their patience is gone,60-80%,,Invented for the tests.
weekly-view,2025-03-10,cbw-2025-03-10,Union officials described the meeting as a waste of time.,0.55,0.7,Invented for the tests.
"""
PARTIAL_REFERENCE = ("port-west", "no", {"ballot_mandate": 0.4, "mediation": 0.9})


def write_second_case_with_evidence(root: Path) -> Path:
    """The tests' second case under ``root`` with reference cases, two judgments and an interested source."""
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import REFERENCE_CASES, write_reference_cases, write_second_case

    case_dir = write_second_case(Path(root))
    write_reference_cases(case_dir, REFERENCE_CASES + (PARTIAL_REFERENCE,))
    (case_dir / "judgments.csv").write_text(JUDGMENTS_CSV, encoding="utf-8")
    sources = Path(root) / "seeds" / "sources.csv"
    lines = sources.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",stance"] + [line + (",interested" if line.startswith("gazette") else ",neutral") for line in lines[1:]]
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return case_dir


def simulated_case(case, sim: dict):
    """A copy of ``case`` whose readings, reference outcomes and judgments are the simulated ones."""
    readings = [
        r.model_copy(update={"level": float(special.expit(z)), "level_text": f"{special.expit(z):.4f}"})
        for r, z in zip(case.readings, sim["reading_z"])
    ]
    refs = [r.model_copy(update={"outcome": "yes" if o else "no"}) for r, o in zip(case.reference_cases, sim["outcome"])]
    judgments = []
    for j, c in zip(case.judgments, sim["judgment_c"]):
        lo, hi = special.logit(j.range)
        half = (hi - lo) / 2
        ends = np.clip(special.expit([c - half, c + half]), 1e-12, 1 - 1e-12)
        text = f"{ends[0]:.15f}" if half == 0 else f"{ends[0]:.15f}-{ends[1]:.15f}"
        judgments.append(j.model_copy(update={"probability": text}))
    return dataclasses.replace(case, readings=readings, reference_cases=refs, judgments=judgments)


_WORKER: dict = {}
"""Per process: case folder -> (case, design, compiled model), so each process compiles once."""


def _setup(case_dir: str):
    if case_dir not in _WORKER:
        from forecast import load_case
        from forecast.model.fit import compile_case

        case = load_case(case_dir)
        _WORKER[case_dir] = (case, ind.design(case), compile_case(case))
    return _WORKER[case_dir]


def parameter_names(case) -> list[str]:
    ids = case.indicator_ids
    return ["base_class", *[f"weight[{i}]" for i in ids], *[f"level[{i}]" for i in ids], "p"]


def run_one(case_dir: str, index: int, seed: int, draws: int = 200, tune: int = 200, chains: int = 2) -> dict:
    """One simulation: prior draw, simulated data, fit, ranks of the truth among ``L`` thinned draws.

    Returns
    -------
    dict
        ``ranks`` (list of int, in :func:`parameter_names` order), ``divergences``, ``clipped`` (number
        of simulated readings outside [0.05, 0.95]) and ``seconds``.
    """
    from forecast import FitSettings
    from forecast.model.fit import sample

    t0 = time.perf_counter()
    case, d, compiled = _setup(case_dir)
    rng = np.random.default_rng([seed, index])
    truth = ind.draw_prior(d, rng)
    sim = ind.simulate(d, truth, rng)
    settings = FitSettings(draws=draws, tune=tune, chains=chains, seed=int(rng.integers(2**31)))
    fit = sample(compiled, simulated_case(case, sim), settings, progress=False)
    post = fit.tree["posterior"]

    def flat(name):
        v = np.asarray(post[name])
        return v.reshape(v.shape[0] * v.shape[1], *v.shape[2:])

    keep = np.linspace(0, chains * draws - 1, L).round().astype(int)
    values = {"base_class": flat("base_class")[keep], "weight": flat("weight")[keep], "level": flat("level")[keep], "p": flat("p")[keep]}
    ranks = [int((values["base_class"] < truth["base_class"]).sum())]
    ranks += [int((values["weight"][:, k] < truth["weight"][k]).sum()) for k in range(d.k)]
    ranks += [int((values["level"][:, k] < truth["level"][k]).sum()) for k in range(d.k)]
    ranks += [int((values["p"] < truth["p"]).sum())]
    z_edge = special.logit(1 - EDGE)
    return {
        "ranks": ranks,
        "divergences": int(np.asarray(fit.tree["sample_stats"]["diverging"]).sum()),
        "clipped": int((np.abs(sim["reading_z"]) > z_edge).sum()),
        "seconds": time.perf_counter() - t0,
    }


def _job(args):
    return run_one(*args)


def run_sbc(case_dir: str, sims: int, *, seed: int = 2026, draws: int = 200, tune: int = 200, chains: int = 2,
            map_function=map, progress: bool = False):
    """All simulations: a DataFrame of ranks (one column per parameter) plus ``divergences``, ``clipped``."""
    import pandas as pd

    from forecast import load_case

    names = parameter_names(load_case(case_dir))
    rows = []
    t0 = time.time()
    for i, r in enumerate(map_function(_job, [(case_dir, s, seed, draws, tune, chains) for s in range(sims)])):
        rows.append({**dict(zip(names, r["ranks"])), "divergences": r["divergences"], "clipped": r["clipped"]})
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1} simulations, {time.time() - t0:.0f} s", flush=True)
    return pd.DataFrame(rows)


def uniformity(ranks) -> "pd.DataFrame":
    """Per parameter: the 10-bin rank histogram, its chi-square statistic and p-value (9 df)."""
    import pandas as pd
    from scipy.stats import chisquare

    rows = []
    for name in [c for c in ranks.columns if c not in ("divergences", "clipped")]:
        counts = np.bincount(ranks[name].to_numpy() * BINS // (L + 1), minlength=BINS)
        stat, pval = chisquare(counts)
        rows.append({"parameter": name, "chi2": float(stat), "p_value": float(pval), **{f"bin{b}": int(c) for b, c in enumerate(counts)}})
    return pd.DataFrame(rows).set_index("parameter")


def plot_ranks(table, *, title: str = ""):
    """Rank histograms of :func:`uniformity`'s table with the expected count and its 99 % band."""
    import matplotlib.pyplot as plt
    from scipy.stats import binom

    n = len(table)
    cols = min(n, 5)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.1 * rows), squeeze=False, sharey=True)
    bins = [c for c in table.columns if c.startswith("bin")]
    total = int(table[bins].iloc[0].sum())
    lo, hi = binom.ppf([0.005, 0.995], total, 1 / BINS)
    for ax, (name, row) in zip(axes.flat, table.iterrows()):
        ax.axhspan(lo, hi, color="0.85")
        ax.axhline(total / BINS, color="0.4", lw=0.8)
        ax.bar(np.arange(BINS), row[bins].to_numpy(), width=0.9, color="#3b6ea5")
        ax.set_title(f"{name}\np = {row['p_value']:.3f}", fontsize=8)
        ax.set_xticks([])
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None, map_function=map) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="second", help="a case folder, or 'second' (the tests' second case with evidence)")
    parser.add_argument("--sims", type=int, default=500)
    parser.add_argument("--draws", type=int, default=200, help="kept draws per chain (2 chains), thinned to L = 99")
    parser.add_argument("--tune", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=str(ROOT / "runs" / "sbc"))
    parser.add_argument("--scheduler", default=None, help="fit on the Dask cluster at this scheduler address")
    parser.add_argument("--workers", type=int, default=None, help="workers of the local Dask cluster (default: one per core)")
    parser.add_argument("--serial", action="store_true", help="fit one after another in this process, without a cluster")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    case_dir = args.case
    if case_dir == "second":
        case_dir = str(write_second_case_with_evidence(Path(tempfile.mkdtemp(prefix="sbc-case-"))))

    t0 = time.time()
    case = _setup(case_dir)[0]
    print(f"compiled in {time.time() - t0:.0f} s; {args.sims} simulations of {case.id}: {len(case.readings)} readings, "
          f"{len(case.reference_cases)} reference cases, {len(case.judgments)} judgments", flush=True)
    t0 = time.time()
    if args.serial or map_function is not map:
        ranks = run_sbc(case_dir, args.sims, seed=args.seed, draws=args.draws, tune=args.tune, map_function=map_function, progress=True)
    else:
        import importlib
        import os

        from forecast.analysis.parallel import mapper

        # the tasks name this file's functions by module (sbc, independent), which local workers import
        # from this folder; a remote cluster's workers need bench/ on their PYTHONPATH
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH")]))
        this = importlib.import_module("sbc")
        with mapper(args.scheduler, args.workers, progress=True) as parallel_map:
            ranks = this.run_sbc(case_dir, args.sims, seed=args.seed, draws=args.draws, tune=args.tune, map_function=parallel_map)
    table = uniformity(ranks)
    clipped = ranks["clipped"] > 0
    print(f"\n{args.sims} simulations in {time.time() - t0:.0f} s; {int(ranks['divergences'].sum())} divergent transitions; "
          f"{clipped.mean():.1%} of simulations had a reading outside [{EDGE}, {1 - EDGE}] (clipped by the model)\n")
    print(f"{'parameter':<28} {'chi2':>7} {'p-value':>8}  rank histogram ({BINS} bins, expected {args.sims / BINS:.0f} each)")
    for name, row in table.iterrows():
        counts = " ".join(f"{int(row[f'bin{b}']):3d}" for b in range(BINS))
        print(f"{name:<28} {row['chi2']:7.2f} {row['p_value']:8.3f}  {counts}{'  REJECTED' if row['p_value'] < ALPHA else ''}")
    levels = [c for c in table.index if c.startswith("level[")]
    if clipped.any() and (~clipped).sum() >= 50:
        unclipped = uniformity(ranks.loc[~clipped, levels + ["divergences", "clipped"]])
        print(f"\nlevels on the {(~clipped).sum()} simulations without a clipped reading: "
              + ", ".join(f"{n} p = {p:.3f}" for n, p in unclipped["p_value"].items()))
    n = len(table)
    worst = table["p_value"].idxmin()
    pmin = float(table["p_value"].min())
    print(f"\nsmallest p-value {pmin:.4f} ({worst}); Bonferroni threshold for {n} tests at 1 %: {ALPHA / n:.5f}: "
          f"{'REJECTED' if pmin < ALPHA / n else 'not rejected'}")
    ranks.to_csv(out / "ranks.csv", index=False)
    table.to_csv(out / "uniformity.csv")
    fig = plot_ranks(table, title=f"SBC, {case.id}: {args.sims} simulations, L = {L}; smallest p = {pmin:.4f} (Bonferroni {ALPHA / n:.4f})")
    fig.savefig(out / "rank_histograms.png", dpi=120)
    print(f"wrote {out / 'ranks.csv'}, {out / 'uniformity.csv'}, {out / 'rank_histograms.png'}")
    return 0 if pmin >= ALPHA / n else 1


if __name__ == "__main__":
    raise SystemExit(main())
