"""Scoring a resolved case over time, and leave-one-out over its reference cases.

Both reuse one compiled model: every fit swaps data with ``with_data`` (the reference-case,
reading and judgment dimensions may change length, see :mod:`forecast.model.model`).

**Over time** (:func:`score_over_time`). For each evidence date ``d`` the case is cut to the evidence
known then (:meth:`forecast.case.load.Case.as_of`), refitted (the timeline's loop,
:func:`forecast.analysis.timeline.as_of_fits`), and its forecast (the posterior mean of
P) scored against the resolved outcome. A first row, ``no evidence``, is the forecast from the
priors and reference cases alone.

**Leave-one-out** (:func:`leave_one_out`). Each reference case ``i`` in turn is held out; each
forecaster is fitted to the others and predicts ``i``: the posterior mean of ``P(o_i = 1)``. Exact
refits, not PSIS-LOO: a refit costs a fraction of a second, and with 20-odd cases one influential
case can make the importance weights unreliable (Pareto k above 0.7), so exact is both cheap and
safe. Forecasters compared on the same folds:

- ``model``: the full model, weights learned from the other cases;
- ``base_rate``: the base rate alone (every indicator's sign set to 0), its log-odds learned from
  the other cases: what the reference class says without the indicators;
- ``equal_weights``: every weight fixed at the mean of the analyst's stated weights (prior sd 0.01
  on the log scale), only the base learned: Dawes's "improper linear model" with its scale fixed;
- ``learned_scale``: the stated weights and directions fixed, one overall scale and an intercept
  learned by logistic regression on the other cases (:mod:`forecast.analysis.comparison`; no sampling);
- ``stated_weights``, for context: the analyst's priors with no reference cases at all (one fit).

The target case's own readings and judgments are left out of every fit: they are evidence about
this case, not about the reference class. Each baseline is compared with the model case by case
(:func:`forecast.analysis.comparison.paired_difference`: mean difference and its standard error).

**What is not held out.** Only the outcomes are. The base-rate prior, the weights and directions as
stated, the indicator set and the reference cases' codings were all chosen by an analyst who knew
these outcomes, so every score here is in-sample for those choices: an upper bound on skill, and
the comparison between forecasters is fair only in what each learns from the other cases.
:func:`not_held_out` says this in words for the case at hand.

**Refits as tasks.** Every sampled fit is a :class:`Refit`, computed by the top-level function
:func:`run_refit` (picklable task in, predictions out). :func:`leave_one_out` runs them with
``map_function(run_refit, tasks)``: builtins ``map`` by default, or any callable with its signature
that returns the results in order (a process pool's or a cluster's map). A process that has not
seen the case's compiled model compiles it once on its first task
(:func:`forecast.analysis.parallel.compiled_for`); ``forecast backtest`` maps them on a Dask cluster
(:func:`forecast.analysis.parallel.mapper`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast.analysis import scoring
from forecast.analysis.comparison import fit_scale, paired_difference, stated_score, verdict
from forecast.analysis.parallel import remember_compiled
from forecast.case.load import Case
from forecast.maths import expit
from forecast.model.draws import Draws, mean
from forecast.model.model import model_inputs, reference_logit

FORECASTERS = ("model", "base_rate", "equal_weights", "learned_scale", "stated_weights")
"""Every forecaster of the leave-one-out backtest, the model first."""

BASELINES = FORECASTERS[1:]
"""The forecasters the model is compared with, case by case."""

SAMPLED = ("model", "base_rate", "equal_weights")
"""The forecasters refitted by sampling in every fold (``stated_weights`` is fitted once)."""


@dataclass
class ScoreResult:
    """Forecasts of a resolved case at each evidence date, and their scores."""

    table: pd.DataFrame
    outcome: str

    def summary(self) -> dict:
        rows = self.table[self.table["date"] != "no evidence"]
        y = scoring.outcome_value(self.outcome)
        return {
            "outcome": self.outcome,
            "n_dates": int(len(rows)),
            "brier": scoring.brier(rows["p"], [y] * len(rows)),
            "log_score": scoring.log_score(rows["p"], [y] * len(rows)),
            "brier_final": float(rows["brier"].iloc[-1]),
            "log_score_final": float(rows["log_score"].iloc[-1]),
            "brier_no_evidence": float(self.table["brier"].iloc[0]),
            "rows": self.table.to_dict(orient="records"),
        }


def score_over_time(case: Case, compiled, settings) -> ScoreResult:
    """Refit ``case`` as of each evidence date and score each forecast against its outcome.

    Raises
    ------
    ValueError
        If the case's question has no ``outcome`` yet.
    """
    from forecast.analysis.timeline import NO_EVIDENCE, as_of_fits

    outcome = case.spec.question.outcome
    if outcome is None:
        raise ValueError("the question has not resolved: set [question] outcome = \"yes\" or \"no\" in case.toml")
    y = scoring.outcome_value(outcome)
    rows = []
    for d, cut, result in as_of_fits(case, compiled, settings, [NO_EVIDENCE, *case.evidence_dates]):
        prob = result.probability().iloc[0]
        p = float(prob["mean"])
        rows.append(
            {
                "date": "no evidence" if d is NO_EVIDENCE else str(d),
                "readings": len(cut.readings),
                "judgments": len(cut.judgments),
                "p": p,
                "hdi_low": float(prob["hdi_low"]),
                "hdi_high": float(prob["hdi_high"]),
                "words": prob["words"],
                "outcome": outcome,
                "brier": scoring.brier([p], [y]),
                "log_score": scoring.log_score([p], [y]),
            }
        )
    return ScoreResult(pd.DataFrame(rows), outcome)


@dataclass
class Backtest:
    """Leave-one-out predictions of the reference cases by each forecaster.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per reference case: ``case``, ``outcome_value`` and ``p_<forecaster>`` for each
        forecaster present (see :data:`FORECASTERS`).
    not_held_out : list of str
        What the folds did not hold out, and what that means (:func:`not_held_out`).
    """

    table: pd.DataFrame
    not_held_out: list[str] = field(default_factory=list)

    @property
    def n_cases(self) -> int:
        return int(len(self.table))

    @property
    def forecasters(self) -> list[str]:
        """The forecasters in the table, in the order of :data:`FORECASTERS`."""
        return [f for f in FORECASTERS if f"p_{f}" in self.table]

    def comparison(self) -> pd.DataFrame:
        """Each baseline's scores and its paired difference from the model (:func:`~forecast.analysis.comparison.paired_difference`).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``forecaster`` (the baselines present): ``brier``, ``log_score``,
            ``brier_diff``, ``brier_diff_se``, ``log_score_diff``, ``log_score_diff_se``, ``n`` and
            ``verdict`` (on the Brier difference); positive differences favour the model.
        """
        y = self.table["outcome_value"].to_numpy()
        model = self.table["p_model"].to_numpy()
        rows = []
        for name in self.forecasters[1:]:
            d = paired_difference(model, self.table[f"p_{name}"].to_numpy(), y)
            rows.append({"forecaster": name, **d, "verdict": verdict(d["brier_diff"], d["brier_diff_se"])})
        return pd.DataFrame(rows).set_index("forecaster")

    def summary(self) -> dict[str, Any]:
        """The scores as plain data: ``brier_<f>``, ``log_score_<f>`` for every forecaster, and ``baselines``,
        each baseline's paired difference from the model with its standard error."""
        y = self.table["outcome_value"].to_numpy()
        out: dict[str, Any] = {"n_cases": self.n_cases, "n_yes": int(y.sum())}
        for name in self.forecasters:
            p = self.table[f"p_{name}"].to_numpy()
            out[f"brier_{name}"] = scoring.brier(p, y)
            out[f"log_score_{name}"] = scoring.log_score(p, y)
        out["brier"] = out["brier_model"]
        out["model_beats_base_rate"] = bool(out["brier_model"] < out["brier_base_rate"])
        out["baselines"] = {k: {kk: (None if isinstance(vv, float) and np.isnan(vv) else vv) for kk, vv in v.items()}
                            for k, v in self.comparison().to_dict(orient="index").items()}
        out["not_held_out"] = list(self.not_held_out)
        return out

    def calibration(self, bins: int = 5) -> pd.DataFrame:
        """Reliability bins for each forecaster (tidy: one row per forecaster and bin)."""
        y = self.table["outcome_value"].to_numpy()
        frames = []
        for name in self.forecasters:
            t = scoring.calibration_bins(self.table[f"p_{name}"].to_numpy(), y, bins)
            t.insert(0, "forecaster", name)
            frames.append(t)
        return pd.concat(frames, ignore_index=True)


def not_held_out(case: Case) -> list[str]:
    """What a leave-one-out backtest of ``case`` does not hold out, and what each means for the comparison.

    The count of held-out cases the base rate's reference class names matches each case's actor
    (the text before its first comma) in the reference-class text as a whole word: a rough count,
    which misses abbreviations and counts an actor named for another episode.
    """
    text = case.spec.base_rate.reference_class
    refs = case.reference_cases
    named = sum(bool(re.search(rf"\b{re.escape(r.actor.split(',')[0].strip())}\b", text, re.IGNORECASE)) for r in refs)
    br = case.spec.base_rate
    return [
        f"The base-rate prior ({br.value:.0%}, 90 % range {br.range[0]:.0%}-{br.range[1]:.0%}) is the same in every fold. "
        f"Its reference class names the actors of {named} of the {len(refs)} held-out cases: if it was drawn up knowing "
        "their outcomes, every forecaster starts from what it is asked to predict (the base rate alone most; a prior widened "
        "because it was judged from these cases still keeps its centre), and every score is optimistic.",
        "The stated weights and directions, and the indicator set, are the same in every fold and were chosen by an analyst "
        "who could know these outcomes: the model, equal weights, the learned scale and the stated weights all rest on them, "
        "so their scores are in-sample for that choice and their lead over the base rate is an upper bound.",
        "The reference cases' levels were coded by someone who knew each outcome; hindsight can pull a coding towards it.",
        "So the comparison is fair in what each forecaster learns from the other cases' outcomes, not in what the analyst "
        "knew when writing the case: a new case, coded before its outcome, is the real test.",
    ]


# --------------------------------------------------------------------------------------------
# The refits as independent tasks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A reference case to predict: its coded indicators' positions and levels (the others are uncoded)."""

    indicator: tuple[int, ...]
    level: tuple[float, ...]


@dataclass(frozen=True)
class Refit:
    """One sampled fit of a backtest: a forecaster's model inputs, and the reference cases it predicts.

    Attributes
    ----------
    case : Case
        The case whose compiled model serves this fit (compiled in a fresh process on first use).
    inputs : dict of str to numpy.ndarray
        The model inputs (:func:`forecast.model.model.model_inputs`, edited for the forecaster).
    settings : FitSettings
    targets : tuple of Target
        The cases to predict with the fitted draws.
    forecaster : str
    fold : int or None
        The held-out reference case's position (``None``: a fit that holds out nothing).
    """

    case: Case
    inputs: dict
    settings: Any
    targets: tuple[Target, ...]
    forecaster: str
    fold: int | None


def run_refit(task: Refit) -> np.ndarray:
    """Fit one task and return the posterior mean probability of each of its targets."""
    from forecast.analysis.parallel import compiled_for
    from forecast.model.fit import draw

    draws = Draws.from_tree(draw(compiled_for(task.case), task.inputs, task.settings), sign=task.inputs["sign"])
    return np.array([predict(draws, task.inputs, t) for t in task.targets])


def target_of(case: Case, i: int) -> Target:
    """Reference case ``i`` of ``case`` as a :class:`Target`."""
    position = {k: n for n, k in enumerate(case.indicator_ids)}
    rows = [c for c in case.codings if c.case == case.reference_cases[i].id]
    return Target(tuple(position[c.indicator] for c in rows), tuple(float(c.level) for c in rows))


def predict(draws: Draws, inputs: dict, target: Target) -> float:
    """Posterior mean probability of ``target``'s outcome (uncoded levels integrated out as in the model)."""
    n = len(target.indicator)
    eta = reference_logit(draws.base, draws.weight, draws.sign, inputs["uncoded_mean"], inputs["uncoded_var"], [0] * n,
                          list(target.indicator), list(target.level), 1, xp=np)
    return float(mean(expit(eta[..., 0]), draws.importance))


def refits(case: Case, settings, without: tuple[str, ...] = ()) -> list[Refit]:
    """Every sampled fit of :func:`leave_one_out`: one ``stated_weights`` fit, then per fold the :data:`SAMPLED` forecasters."""
    refs = case.reference_cases
    bare = dataclasses.replace(case, readings=[], judgments=[])
    off = np.array([i in without for i in case.indicator_ids])

    def inputs_of(c: Case) -> dict:
        x = model_inputs(c)
        return {**x, "sign": np.where(off, 0.0, x["sign"])}

    targets = [target_of(case, i) for i in range(len(refs))]
    stated = inputs_of(dataclasses.replace(bare, reference_cases=[], codings=[]))
    w_equal = float(np.exp(stated["weight_mu"]).mean())
    tasks = [Refit(case, stated, settings, tuple(targets), "stated_weights", None)]
    for i, ref in enumerate(refs):
        x = inputs_of(dataclasses.replace(bare, reference_cases=[r for r in refs if r.id != ref.id],
                                          codings=[c for c in case.codings if c.case != ref.id]))
        variants = {
            "model": x,
            "base_rate": {**x, "sign": np.zeros_like(x["sign"])},
            "equal_weights": {**x, "weight_mu": np.full_like(x["weight_mu"], np.log(w_equal)), "weight_sigma": np.full_like(x["weight_sigma"], 0.01)},
        }
        tasks += [Refit(case, inputs, settings, (targets[i],), name, i) for name, inputs in variants.items()]
    return tasks


def learned_scale(case: Case, without: tuple[str, ...] = ()) -> np.ndarray:
    """Leave-one-out predictions of the one-learned-scale baseline (:mod:`forecast.analysis.comparison`), no sampling."""
    x = model_inputs(dataclasses.replace(case, readings=[], judgments=[]))
    sign = np.where([i in without for i in case.indicator_ids], 0.0, x["sign"])
    scores = np.array([stated_score(sign, x["weight_mu"], x["uncoded_mean"], t.indicator, t.level)
                       for t in (target_of(case, i) for i in range(len(case.reference_cases)))])
    y = np.array([r.y for r in case.reference_cases], dtype=float)
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        a, b = fit_scale(scores[keep], y[keep])
        out[i] = float(expit(a + b * scores[i]))
    return out


def leave_one_out(case: Case, compiled=None, settings=None, progress: Callable[[int, int], None] | None = None,
                  without: tuple[str, ...] = (), map_function: Callable = map) -> Backtest:
    """Exact leave-one-out over ``case``'s reference cases for the model and its baselines.

    Parameters
    ----------
    case : Case
        With at least two reference cases.
    compiled : nutpie compiled model, optional
        From :func:`forecast.model.fit.compile_case` on ``case``: this process's tasks use it
        (:func:`forecast.analysis.parallel.compiled_for` compiles one when absent).
    settings : FitSettings, optional
        Default ``FitSettings()``.
    progress : callable, optional
        Called with ``(done, total)`` after each fit.
    without : tuple of str
        Indicator ids to switch off (sign 0) in every forecaster: an ablation, e.g. to see how much
        of the score rests on one indicator.
    map_function : callable
        ``map_function(run_refit, tasks)`` runs the fits (:class:`Refit`) and returns their results
        in order: builtins ``map`` (the default), or a pool's or a cluster's map.
    """
    refs = case.reference_cases
    if len(refs) < 2:
        raise ValueError(f"leave-one-out needs at least two reference cases, the case has {len(refs)}")
    unknown = set(without) - set(case.indicator_ids)
    if unknown:
        raise ValueError(f"unknown indicator(s) {sorted(unknown)}")
    if compiled is not None:
        remember_compiled(case, compiled)
    if settings is None:
        from forecast.model.fit import FitSettings

        settings = FitSettings()
    tasks = refits(case, settings, without)
    results = []
    for n, r in enumerate(map_function(run_refit, tasks), start=1):
        results.append(np.asarray(r, dtype=float))
        if progress is not None:
            progress(n, len(tasks))
    rows = [{"case": ref.id, "year": ref.year, "actor": ref.actor, "outcome": ref.outcome, "outcome_value": ref.y,
             "coded": sum(c.case == ref.id for c in case.codings)} for ref in refs]
    for task, r in zip(tasks, results):
        if task.fold is None:
            for row, value in zip(rows, r):
                row[f"p_{task.forecaster}"] = float(value)
        else:
            rows[task.fold][f"p_{task.forecaster}"] = float(r[0])
    for row, value in zip(rows, learned_scale(case, without)):
        row["p_learned_scale"] = float(value)
    table = pd.DataFrame(rows)
    return Backtest(table[[*table.columns[:6], *(f"p_{f}" for f in FORECASTERS)]], not_held_out(case))
