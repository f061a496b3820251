"""Synthetic questions: valid case folders drawn from the model's prior, for benchmarks and tests.

Each case is drawn with its own seeded generator (``numpy.random.default_rng([seed, index])``), so
the same seed writes the same folders byte for byte. For ``K`` indicators, the story is the model's
own generative story (``docs/model.md``), with the ``[model]`` defaults of
:class:`forecast.case.schema.ModelSettings`:

    base rate v ~ Uniform(0.05, 0.6), its 90 % range [v / 2.5, min(0.95, 2 v + 0.05)]
    stated weight m_k ~ Uniform(1.3, 3.5) (odds multiplier), spread ~ Uniform(1.5, 3), direction ±1
    true level_k ~ Beta(a, b)                                  the default level prior
    reading j of indicator k: y_j ~ Normal(level_k, reading_sd × r × c), clipped to [0, 1]
    base ~ Normal(mu_b, sigma_b), weight_k ~ LogNormal(mu_k, sigma_k)  the priors the case states
    p = logistic(base + sum_k s_k weight_k (2 level_k - 1));  outcome ~ Bernoulli(p) when resolved

Every reading quotes a sentence of a source document written beside the case (``sources.csv`` and
one text file per source, inside the case folder), dated on its source's publication date, so the
folder passes ``forecast check``. The indicators are named ``factor_1 .. factor_K`` in every case,
so cases with the same ``K`` share one compiled model. The drawn truth (levels, weights, base,
``p``) is written to ``truth.json``, which the case loader ignores.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np

from forecast.case.scaffold import write_new_folder
from forecast.case.schema import ModelSettings
from forecast.maths import base_rate_prior, expit, grade_factor, weight_prior

GRADES = ("A1", "B1", "B2", "B2", "C2", "C3")
"""Grades a synthetic reading is given (drawn uniformly from these)."""

TRUTH_FILE = "truth.json"
START = dt.date(2025, 1, 6)


def draw_case(seed: int, index: int = 0, *, indicators: int = 4, resolved: bool = False) -> dict:
    """One synthetic case as plain data: its ``case.toml`` values, readings, sources and truth.

    Parameters
    ----------
    seed, index : int
        The case is drawn with ``numpy.random.default_rng([seed, index])``.
    indicators : int
        How many indicators (``K``).
    resolved : bool
        Whether the question has resolved (its outcome drawn from the true ``p``).
    """
    rng = np.random.default_rng([seed, index])
    defaults = ModelSettings()
    a, b = defaults.level_prior
    case_id = f"synthetic_{seed}_{index:04d}"
    value = round(float(rng.uniform(0.05, 0.6)), 2)
    low, high = round(value / 2.5, 3), round(min(0.95, 2 * value + 0.05), 3)
    signs = rng.choice([1, -1], size=indicators)
    multipliers = np.round(rng.uniform(1.3, 3.5, size=indicators), 2)
    spreads = np.round(rng.uniform(1.5, 3.0, size=indicators), 2)
    level = rng.beta(a, b, size=indicators)
    mu_b, sigma_b = base_rate_prior(value, low, high)
    mu_w, sigma_w = weight_prior(np.log(multipliers), spreads)
    base = float(rng.normal(mu_b, sigma_b))
    weight = np.exp(rng.normal(mu_w, sigma_w))
    p = float(expit(base + np.sum(signs * weight * (2 * level - 1))))
    horizon = START + dt.timedelta(days=365)
    n_sources = int(rng.integers(2, 4))
    published = sorted(START + dt.timedelta(days=int(d)) for d in rng.choice(300, size=n_sources, replace=False))
    sources = [{"id": f"src{s + 1}", "file": f"source_{s + 1}.txt", "title": f"Synthetic report {s + 1} on {case_id}",
                "outlet": "Synthetic Wire", "author": "", "url": "", "published": published[s].isoformat(), "date_note": "", "piece": ""}
               for s in range(n_sources)]
    sentences: dict[str, list[str]] = {s["id"]: [] for s in sources}
    readings = []
    for k in range(indicators):
        for j in range(int(rng.integers(1, 4))):
            grade = str(rng.choice(GRADES))
            y = float(np.clip(rng.normal(level[k], defaults.reading_sd * grade_factor(grade)), 0.0, 1.0))
            src = sources[int(rng.integers(n_sources))]
            rid = f"r{k + 1}_{j + 1}"
            quote = f"Observers put factor {k + 1} at {y:.2f} on the scale, in note {rid}."
            sentences[src["id"]].append(quote)
            readings.append({"id": rid, "indicator": f"factor_{k + 1}", "date": src["published"], "level": f"{y:.2f}",
                             "source": src["id"], "quote": quote, "grade": grade,
                             "rationale": "Synthetic: drawn from the model's prior predictive."})
    outcome = None
    if resolved:
        outcome = "yes" if rng.uniform() < p else "no"
    return {
        "id": case_id, "value": value, "range": (low, high), "signs": signs.tolist(), "multipliers": multipliers.tolist(),
        "spreads": spreads.tolist(), "horizon": horizon, "outcome": outcome, "sources": sources, "sentences": sentences,
        "readings": readings,
        "truth": {"base": base, "weight": weight.tolist(), "level": level.tolist(), "p": p, "outcome": outcome},
    }


def case_toml(drawn: dict) -> str:
    """The ``case.toml`` text of a drawn case (``[model]`` left out: the defaults apply)."""
    low, high = drawn["range"]
    lines = [
        "# A synthetic question drawn from the model's prior (forecast.case.synthetic): not about the world.",
        "",
        "[case]",
        f'id = "{drawn["id"]}"',
        f'title = "Synthetic question {drawn["id"]}"',
        'sources = "sources.csv"',
        "",
        "[question]",
        f'text = "Will synthetic event {drawn["id"]} happen by {drawn["horizon"]:%d %B %Y}?"',
        'criteria = "Resolves yes if the synthetic event happens by the horizon; no otherwise."',
        f"horizon = {drawn['horizon'].isoformat()}",
    ]
    if drawn["outcome"] is not None:
        lines += [f'outcome = "{drawn["outcome"]}"', f"resolved_on = {drawn['horizon'].isoformat()}"]
    lines += [
        "",
        "[base_rate]",
        f"value = {drawn['value']}",
        f"range = [{low}, {high}]",
        'reference_class = "Synthetic questions of the same kind."',
        'rationale = "Drawn uniformly for a benchmark."',
    ]
    for k, (s, m, spread) in enumerate(zip(drawn["signs"], drawn["multipliers"], drawn["spreads"])):
        lines += [
            "",
            "[[indicators]]",
            f'id = "factor_{k + 1}"',
            f'name = "Factor {k + 1}"',
            f'description = "Synthetic factor {k + 1}."',
            'unit = "0 = absent · 1 = fully present"',
            f'direction = "{"raises" if s > 0 else "lowers"}"',
            f"weight = {m}",
            'weight_unit = "odds_multiplier"',
            f"weight_spread = {spread}",
            'weight_rationale = "Drawn for a benchmark."',
        ]
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_case(folder: str | Path, drawn: dict) -> Path:
    """Write a drawn case into the new folder ``folder`` (atomically: all of it or nothing); return it.

    Raises
    ------
    FileExistsError
        If ``folder`` exists and is not empty.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty; nothing was written")
    files = {
        "case.toml": case_toml(drawn),
        "readings.csv": _csv(drawn["readings"]),
        "sources.csv": _csv(drawn["sources"]),
        TRUTH_FILE: json.dumps(drawn["truth"], indent=2) + "\n",
    }
    for s in drawn["sources"]:
        body = " ".join(drawn["sentences"][s["id"]]) or "Nothing was reported."
        files[s["file"]] = f"{s['title']}\nSynthetic Wire, {s['published']}\n\n{body}\n"
    write_new_folder(folder, files)
    return folder


def write_cases(root: str | Path, n: int, *, seed: int = 0, indicators: int = 4, resolved: float = 0.0) -> list[Path]:
    """Write ``n`` synthetic case folders under ``root`` (``root/synthetic_<seed>_<i>``); return them.

    Parameters
    ----------
    root : str or Path
        The folder of case folders (made if needed).
    n : int
        How many cases.
    seed : int
        The same seed writes the same cases.
    indicators : int
        Indicators per case (one compiled model serves them all).
    resolved : float
        Share of the cases whose question has resolved (the first ``round(resolved * n)``).
    """
    root = Path(root)
    n_resolved = round(resolved * n)
    return [write_case(root / f"synthetic_{seed}_{i:04d}", draw_case(seed, i, indicators=indicators, resolved=i < n_resolved))
            for i in range(n)]
