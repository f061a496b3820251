"""Scoring a resolved case over time, and leave-one-out over its reference cases.

Both reuse one compiled model: every fit swaps data with ``with_data`` (the reference-case,
reading and judgment dimensions may change length, see :mod:`forecast.model.model`).

**Over time** (:func:`score_over_time`). For each evidence date ``d`` the case is cut to the evidence
known then (:meth:`forecast.case.load.Case.as_of`), refitted (the timeline's loop,
:func:`forecast.analysis.timeline.as_of_fits`), and its forecast (the posterior mean of
P) scored against the resolved outcome. A first row, ``no evidence``, is the forecast from the
priors and reference cases alone.

**Leave-one-out** (:func:`leave_one_out`). Each reference case ``i`` in turn is held out; the model
is fitted to the others and predicts ``i``: the posterior mean of ``P(o_i = 1)``. Exact refits, not
PSIS-LOO: a refit costs a fraction of a second, and with 20-odd cases one influential case can
make the importance weights unreliable (Pareto k above 0.7), so exact is both cheap and safe.
Three forecasters are compared on the same folds:

- ``model``: the full model, weights learned from the other cases;
- ``base_rate``: the base rate alone (every indicator's sign set to 0), its log-odds learned from
  the other cases: what the reference class says without the indicators;
- ``equal_weights``: every weight fixed at the mean of the analyst's stated weights (prior sd 0.01
  on the log scale), only the base learned: Dawes's "improper linear model";

and, for context, ``stated_weights``: the analyst's priors with no reference cases at all (one fit).
The target case's own readings and judgments are left out of every fit: they are evidence about
this case, not about the reference class.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.analysis import scoring
from forecast.case.load import Case
from forecast.model.model import model_inputs, reference_logit
from forecast.maths import expit
from forecast.model.draws import Draws, mean

FORECASTERS = ("model", "base_rate", "equal_weights")


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
    """Leave-one-out predictions of the reference cases by each forecaster."""

    table: pd.DataFrame

    @property
    def n_cases(self) -> int:
        return int(len(self.table))

    def summary(self) -> dict:
        y = self.table["outcome_value"].to_numpy()
        out = {"n_cases": self.n_cases, "n_yes": int(y.sum())}
        for name in (*FORECASTERS, "stated_weights"):
            p = self.table[f"p_{name}"].to_numpy()
            out[f"brier_{name}"] = scoring.brier(p, y)
            out[f"log_score_{name}"] = scoring.log_score(p, y)
        out["brier"] = out["brier_model"]
        out["model_beats_base_rate"] = out["brier_model"] < out["brier_base_rate"]
        return out

    def calibration(self, bins: int = 5) -> pd.DataFrame:
        """Reliability bins for each forecaster (tidy: one row per forecaster and bin)."""
        y = self.table["outcome_value"].to_numpy()
        frames = []
        for name in (*FORECASTERS, "stated_weights"):
            t = scoring.calibration_bins(self.table[f"p_{name}"].to_numpy(), y, bins)
            t.insert(0, "forecaster", name)
            frames.append(t)
        return pd.concat(frames, ignore_index=True)


def _draws(compiled, inputs: dict, settings) -> Draws:
    """Posterior draws sampled with these inputs (their signs included)."""
    from forecast.model.fit import draw

    return Draws.from_tree(draw(compiled, inputs, settings), sign=inputs["sign"])


def _predict(case: Case, draws: Draws, inputs, i: int) -> float:
    """Posterior mean probability of reference case ``i``'s outcome."""
    rows = [j for j, c in enumerate(case.codings) if c.case == case.reference_cases[i].id]
    position = {k: n for n, k in enumerate(case.indicator_ids)}
    eta = reference_logit(
        draws.base, draws.weight, draws.sign, inputs["uncoded_mean"], inputs["uncoded_var"], [0] * len(rows),
        [position[case.codings[j].indicator] for j in rows], [case.codings[j].level for j in rows], 1, xp=np,
    )
    return float(mean(expit(eta[..., 0]), draws.importance))


def leave_one_out(case: Case, compiled, settings, progress=None, without: tuple[str, ...] = ()) -> Backtest:
    """Exact leave-one-out over ``case``'s reference cases for the model and two baselines.

    Parameters
    ----------
    case : Case
        With at least two reference cases.
    compiled : nutpie compiled model
        From :func:`forecast.model.fit.compile_case` (any case with the same indicators).
    settings : FitSettings
    progress : callable, optional
        Called with ``(i, n)`` after each held-out case.
    without : tuple of str
        Indicator ids to switch off (sign 0) in every forecaster: an ablation, e.g. to see how much
        of the score rests on one indicator.
    """
    refs = case.reference_cases
    if len(refs) < 2:
        raise ValueError(f"leave-one-out needs at least two reference cases, the case has {len(refs)}")
    bare = dataclasses.replace(case, readings=[], judgments=[])
    off = np.array([i in without for i in case.indicator_ids])
    unknown = set(without) - set(case.indicator_ids)
    if unknown:
        raise ValueError(f"unknown indicator(s) {sorted(unknown)}")

    def inputs_of(c: Case) -> dict:
        x = model_inputs(c)
        return {**x, "sign": np.where(off, 0.0, x["sign"])}

    stated = inputs_of(dataclasses.replace(bare, reference_cases=[], codings=[]))
    stated_draws = _draws(compiled, stated, settings)
    w_equal = float(np.exp(stated["weight_mu"]).mean())
    rows = []
    for i, ref in enumerate(refs):
        train = dataclasses.replace(
            bare, reference_cases=[r for r in refs if r.id != ref.id], codings=[c for c in case.codings if c.case != ref.id]
        )
        x = inputs_of(train)
        variants = {
            "model": x,
            "base_rate": {**x, "sign": np.zeros_like(x["sign"])},
            "equal_weights": {**x, "weight_mu": np.full_like(x["weight_mu"], np.log(w_equal)), "weight_sigma": np.full_like(x["weight_sigma"], 0.01)},
        }
        row = {"case": ref.id, "year": ref.year, "actor": ref.actor, "outcome": ref.outcome, "outcome_value": ref.y,
               "coded": sum(c.case == ref.id for c in case.codings)}
        for name, inputs in variants.items():
            row[f"p_{name}"] = _predict(case, _draws(compiled, inputs, settings), inputs, i)
        row["p_stated_weights"] = _predict(case, stated_draws, stated, i)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(refs))
    return Backtest(pd.DataFrame(rows))
