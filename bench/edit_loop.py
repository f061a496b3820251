"""Time the same 20 weight edits on the Belarus case two ways, in one process.

- naive: for each edit, build the PyMC model of the edited case and call
  ``pm.sample(nuts_sampler="nutpie", tune=..., draws=..., chains=...)``, which compiles the model
  again every call;
- fast: the notebook editor's slider callback (:meth:`forecast.editor.Editor.set`): the edited case
  in memory, then :class:`forecast.analysis.live.LiveModel` (one compiled nutpie model; PSIS reweighting of
  the current posterior, or re-sampling with ``with_data`` when k-hat rejects it), then the
  headline, the readouts and the contributions chart are redrawn.

The edits are cumulative, as an analyst drags one slider after another. Both ways use the same
sampler settings (2 chains x 1 000 draws after 300 warm-up draws, seed 0, the editor's defaults). One-off costs (imports, the
first compile, the saved case's first sample) are reported apart and not in the per-edit numbers.
Prints per-edit times and P both ways, the medians, the share of edits on each fast path, and last
``speedup: <median naive / median fast>x``.

Then the re-sampling fallback alone (the path an edit takes when reweighting cannot be trusted):
twenty cases that drop their latest 1, 2, ... readings (readings are not prior parameters, so
every one re-samples) through :meth:`LiveModel.evaluate`, which warm-starts from the fit in hand
(:func:`forecast.model.fit.resample`), interleaved with the same case sampled cold with the
editor's full settings (:func:`forecast.model.fit.sample`, the fallback before). Prints the
fallback's median and maximum latency (goal: 0.3 s or less) and the largest difference in P.

    uv run python bench/edit_loop.py [--fallback-only]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EDITS = [
    ("moscow_pressure", 1.9),
    ("moscow_pressure", 2.0),
    ("moscow_pressure", 2.2),
    ("moscow_pressure", 2.5),
    ("leader_willingness", 2.7),
    ("leader_willingness", 3.0),
    ("leader_willingness", 3.5),
    ("public_opposition", 1.7),
    ("public_opposition", 2.0),
    ("army_readiness", 1.4),
    ("army_readiness", 1.2),
    ("ukraine_defences", 2.0),
    ("ukraine_defences", 2.5),
    ("other_borders", 1.5),
    ("russia_war_prospects", 1.8),
    ("russia_war_prospects", 2.2),
    ("strike_back_risk", 1.6),
    ("regime_stability", 1.5),
    ("economic_dependence", 1.6),
    ("moscow_pressure", 3.0),
]
"""Twenty weight edits (odds multipliers), applied one after another."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", default=str(ROOT / "data" / "belarus"))
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=300)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fallback-only", action="store_true", help="Time only the re-sampling fallback.")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import pymc as pm

    import forecast as fc
    from forecast.case.edit import Edit, apply_edits
    from forecast.editor import Editor
    from forecast.model.fit import compile_case
    from forecast.model.model import build_model

    case = fc.load_case(args.case)
    print(f"imports and loading: {time.perf_counter() - t0:.1f} s")
    assert len(EDITS) == 20

    # -- fast path: the editor's callback -----------------------------------------------------------
    t = time.perf_counter()
    compiled = compile_case(case)
    t_compile = time.perf_counter() - t
    t = time.perf_counter()
    editor = Editor(case, compiled=compiled, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    t_first = time.perf_counter() - t
    print(f"fast path one-off: compile {t_compile:.1f} s, first sample of the saved case and widgets {t_first:.2f} s")
    fallback(case, compiled, args)
    if args.fallback_only:
        return 0
    fast, engine, paths, p_fast = [], [], [], []
    for ind, value in EDITS:
        t = time.perf_counter()
        ev = editor.set(ind, weight=value)
        fast.append(time.perf_counter() - t)
        engine.append(ev.seconds)
        paths.append(ev.path)
        p_fast.append(ev.mean)

    # -- naive: build the model and pm.sample for each edit --------------------------------------
    naive, p_naive = [], []
    edits: list[Edit] = []
    for ind, value in EDITS:
        edits.append(Edit(ind, "weight", value))
        t = time.perf_counter()
        edited = apply_edits(case, edits)
        with build_model(edited):
            tree = pm.sample(
                draws=args.draws, tune=args.tune, chains=args.chains, cores=2, random_seed=args.seed,
                nuts_sampler="nutpie", progressbar=False,
            )
        naive.append(time.perf_counter() - t)
        p_naive.append(float(tree["posterior"]["p"].mean()))

    print(f"\n{'#':>2} {'edit':<32} {'naive s':>8} {'fast s':>7} {'engine s':>8}  {'path':<9} {'P naive':>7} {'P fast':>7}")
    for i, ((ind, value), a, b, e, path, pn, pf) in enumerate(zip(EDITS, naive, fast, engine, paths, p_naive, p_fast), 1):
        print(f"{i:>2} {ind + ' weight = ' + format(value, 'g'):<32} {a:8.2f} {b:7.3f} {e:8.3f}  {path:<9} {pn:7.1%} {pf:7.1%}")
    share = Counter(paths)
    med_naive, med_fast = statistics.median(naive), statistics.median(fast)
    print(f"\nsampler: nutpie {__import__('nutpie').__version__} both ways, {args.chains} chains x {args.draws} draws, tune={args.tune}, seed {args.seed}")
    print(f"naive (build_model + pm.sample(nuts_sampler='nutpie')) per edit: median {med_naive:.2f} s, total {sum(naive):.1f} s")
    print(f"fast (Editor.set: apply edit, LiveModel.evaluate, redraw) per edit: median {med_fast:.3f} s, max {max(fast):.3f} s, total {sum(fast):.2f} s")
    print(f"fast engine only (LiveModel.evaluate): median {statistics.median(engine):.3f} s")
    print("fast paths: " + ", ".join(f"{k} {v}/{len(paths)}" for k, v in sorted(share.items())))
    print(f"largest |P naive - P fast|: {max(abs(a - b) for a, b in zip(p_naive, p_fast)):.3f}")
    print(f"speedup: {med_naive / med_fast:.0f}x")
    return 0


def fallback(case, compiled, args) -> None:
    """Median and maximum latency of the re-sampling fallback, against a cold full re-sample."""
    import dataclasses

    from forecast.analysis.live import LiveModel
    from forecast.model.fit import FitSettings, sample

    live = LiveModel(case, compiled=compiled, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    settings = FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    warm, cold, gap, sizes = [], [], [], []
    for i in range(1, 21):
        edited = dataclasses.replace(case, readings=case.readings[:-i])
        for which in ("warm", "cold") if i % 2 else ("cold", "warm"):
            t = time.perf_counter()
            if which == "warm":
                ev = live.evaluate(edited)
                warm.append(time.perf_counter() - t)
                assert ev.path == "resample", ev.path
                sizes.append(ev.draws)
            else:
                p_cold = float(sample(compiled, edited, settings, progress=False).draws("p").mean())
                cold.append(time.perf_counter() - t)
        gap.append(abs(ev.mean - p_cold))
    print(f"\nre-sampling fallback (LiveModel.evaluate, warm-started), 20 edits: median {statistics.median(warm):.3f} s, "
          f"max {max(warm):.3f} s, {statistics.median(sizes):.0f} draws (goal: 0.3 s or less)")
    print(f"cold re-sample with the full settings ({args.chains} x {args.draws} after {args.tune}): "
          f"median {statistics.median(cold):.3f} s, max {max(cold):.3f} s")
    print(f"largest |P warm fallback - P cold|: {max(gap):.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
