"""Sensitivity: which indicator matters most (tornado), what would move the judgment across a band
(tipping points, as an intervention on the latent level and counted in new readings), what one more
reading is worth, and which priors drive the result (power-scaling).

All three use the posterior draws ``base^(s)``, ``weight_k^(s)``, ``level_k^(s)`` of a fitted case,
evaluated under edits by the draws core (:func:`forecast.model.draws.evaluate`). Holding every other indicator at its posterior draws
and fixing indicator k's level at a constant ``L`` gives the *level curve*

    f_k(L) = (1/S) sum_s expit(r_ks + s_k * weight_k^(s) * (2L - 1)),
    r_ks   = log_odds^(s) - s_k * weight_k^(s) * (2 level_k^(s) - 1)

(the log-odds with k's own contribution taken out). Each term is monotone in L with the same sign
``s_k`` (weights are positive), so ``f_k`` is monotone: increasing for an indicator that raises the
chance, decreasing for one that lowers it.

Tornado. Indicator k's level moves across its *plausible range*: by default its posterior 5 % to
95 % quantiles ``[q05_k, q95_k]`` (where the evidence puts it), or with ``range="scale"`` the whole
scale ``[0, 1]``. The bar runs from ``f_k(low)`` to ``f_k(high)``; the swing is
``|f_k(high) - f_k(low)|`` and bars are sorted by it. By monotonicity, ``f_k(high) >= f_k(low)``
exactly when the indicator raises the chance.

Tipping points, as an intervention on the latent level. With ``b`` the ICD 203 band of the baseline mean P and ``[e_lo, e_hi)`` its range,
the level that tips the forecast up is the root of ``f_k(L) = e_hi`` in [0, 1] and down the root of
``f_k(L) = e_lo``; a root is found by bisection on the monotone ``f_k`` (to 1e-6 in L), and when
``f_k`` does not reach the edge anywhere in [0, 1] the answer is "none within the scale". A
probability on an edge belongs to the higher band (:mod:`forecast.model.words`). These levels are
interventions ("if the level were L"), in latent-level units; the same question in evidence an analyst
could look for (how many new readings of a grade) and the value of one more reading are in
:mod:`forecast.analysis.evidence_value`, and :func:`analyse` reports both.

Prior sensitivity. Power-scaling (Kallioinen et al. 2024, ArviZ ``psense``): the prior (or the
likelihood) is raised to a power ``alpha`` near 1 and the posterior is re-weighted by Pareto-smoothed
importance sampling, without refitting; the sensitivity is the rate of change of the cumulative
Jensen-Shannon distance of each quantity's distribution. ArviZ's threshold is 0.05: a prior
sensitivity at or above it means that prior shapes the result; a likelihood sensitivity below it means
the data say little about that quantity. We report it for P(event) overall, and for P(event) when only
one prior is scaled at a time (the base rate, each weight, each level), which ranks the priors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecast.model.draws import Draws, Edits, evaluate_batch, plain_summary, summarise
from forecast.model.words import BANDS, band_index, band_label

THRESHOLD = 0.05
"""ArviZ's power-scaling threshold: sensitivities at or above it are worth a look."""

RangeKind = Literal["posterior", "scale"]

BASE_NAMES = ("base", "base_class")
"""The base rate's names: ``base`` (log-odds at neutral levels) and ``base_class``, the free variable its prior is on."""


def level_curve(draws: Draws, indicator: str, levels) -> np.ndarray:
    """``f_k(L)``: the mean P with indicator ``indicator`` held at each level in ``levels`` (weighted when the draws are)."""
    return evaluate_batch(draws, Edits.level_grid(draws, indicator, levels), interval=False)["mean"].to_numpy()


def plausible_range(draws: Draws, indicator: str, kind: RangeKind = "posterior", q=(0.05, 0.95)) -> tuple[float, float]:
    """The level range a tornado bar spans: posterior quantiles ``q`` or the whole scale."""
    if kind == "scale":
        return 0.0, 1.0
    if kind != "posterior":
        raise ValueError(f"range must be 'posterior' or 'scale', got {kind!r}")
    lo, hi = np.quantile(draws.level[:, draws.position(indicator)], q)
    return float(lo), float(hi)


def tornado(result, *, range: RangeKind = "posterior", q=(0.05, 0.95)) -> pd.DataFrame:
    """Each indicator moved across its plausible range while the others hold, sorted by swing.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``range``, ``level_low``, ``level_high``,
        ``level_mean``, ``p_low`` and ``p_high`` (mean P at the low and high level), ``p_baseline``,
        ``swing``; largest swing first.
    """
    draws = Draws.from_forecast(result)
    base = float(draws.p().mean())
    rows = []
    for ind in result.indicators:
        lo, hi = plausible_range(draws, ind["id"], range, q)
        p_lo, p_hi = level_curve(draws, ind["id"], [lo, hi])
        rows.append({"indicator": ind["id"], "name": ind["name"], "direction": ind["direction"],
                     "range": "posterior 5–95 %" if range == "posterior" else "whole scale 0–1",
                     "level_low": lo, "level_high": hi, "level_mean": float(draws.level[:, draws.position(ind["id"])].mean()),
                     "p_low": float(p_lo), "p_high": float(p_hi), "p_baseline": base, "swing": float(abs(p_hi - p_lo))})
    table = pd.DataFrame(rows).set_index("indicator")
    return table.sort_values("swing", ascending=False, kind="stable")


def _bisect(f, target: float, increasing: bool, tol: float = 1e-6) -> float:
    """Root of the monotone ``f(L) = target`` on [0, 1] (assumes it is bracketed)."""
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        above = f(mid) >= target
        if above == increasing:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def tipping_points(result) -> pd.DataFrame:
    """For each indicator, the level at which the mean P crosses into the next band up and down
    (an intervention on the latent level: every draw's level set to it).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``name``, ``direction``, ``level_mean``, ``p_baseline``,
        ``band_now``; ``up_band``, ``up_edge``, ``level_up`` and ``up_text``; the same for ``down``;
        and ``p_at_0``, ``p_at_1``. ``level_up`` / ``level_down`` are NaN when no level in [0, 1] is
        enough ("none within the scale").
    """
    draws = Draws.from_forecast(result)
    base = float(draws.p().mean())
    b = band_index(base)
    rows = []
    for ind in result.indicators:
        k = ind["id"]
        increasing = ind["direction"] == "raises"

        def f(L, k=k):
            return float(level_curve(draws, k, [L])[0])

        p0, p1 = f(0.0), f(1.0)
        row = {"indicator": k, "name": ind["name"], "direction": ind["direction"],
               "level_mean": float(draws.level[:, draws.position(k)].mean()), "p_baseline": base,
               "band_now": BANDS[b][0], "p_at_0": p0, "p_at_1": p1}
        for way, target_band, edge in (("up", b + 1, BANDS[b][2] if b + 1 < len(BANDS) else None),
                                       ("down", b - 1, BANDS[b][1] if b > 0 else None)):
            level = np.nan
            if edge is not None:
                reach = max(p0, p1) >= edge if way == "up" else min(p0, p1) < edge
                if reach:
                    level = _bisect(f, edge, increasing)
            row[f"{way}_band"] = BANDS[target_band][0] if edge is not None else None
            row[f"{way}_edge"] = edge if edge is not None else np.nan
            row[f"level_{way}"] = level
            if edge is None:
                row[f"{way}_text"] = f"none: already in the {'top' if way == 'up' else 'bottom'} band"
            elif np.isnan(level):
                row[f"{way}_text"] = "none within the scale"
            else:
                row[f"{way}_text"] = f"{band_label(target_band)} at latent level {level:.2f} (now {row['level_mean']:.2f})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("indicator")


@dataclass
class PriorSensitivity:
    """Power-scaling results: ArviZ's summary, a ranking of the priors, and a verdict in words."""

    summary: pd.DataFrame
    components: pd.DataFrame
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "verdict": self.verdict,
            "threshold": THRESHOLD,
            "p": {"prior": float(s.loc["p", "prior"]), "likelihood": float(s.loc["p", "likelihood"]), "diagnosis": s.loc["p", "diagnosis"]},
            "priors": [{"prior": i, **{k: (float(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in r.items()}}
                       for i, r in self.components.iterrows()],
        }


LIKELIHOOD_PARTS = {"readings": "readings", "reference_outcome": "reference outcomes", "judgments": "judgments"}
"""The likelihood's parts: the model's observed variables and the judgments' potential, by their name in words."""


def prior_sensitivity(result, case, *, alphas=(0.99, 1.01)) -> PriorSensitivity:
    """Power-scaling prior and likelihood sensitivity of P(event), overall, prior by prior and part by part.

    Rebuilds the PyMC model of ``case`` (:func:`forecast.model.model.build_model`; it must be the case
    ``result`` was fitted on), adds the ``log_likelihood`` and ``log_prior`` groups with
    ``pm.compute_log_likelihood`` and ``pm.stats.compute_log_prior``, and calls ArviZ's
    ``psense_summary`` and ``psense``. The likelihood is everything the data add: the readings, the
    reference outcomes, and the judgments, whose potential ``-1/2 r' C^-1 r`` (``r = c - log_odds``,
    ``C = diag(t^2) + tau^2 1 1'``) is added to ``log_likelihood`` as ``judgments`` (PyMC computes
    only observed variables). Beside ArviZ's columns, the summary has one ``likelihood: <part>``
    column per part the case has: the sensitivity when only that part is power-scaled.
    """
    import logging

    import arviz as az
    import pymc as pm

    from forecast.analysis.checks import judgment_covariance, mahalanobis
    from forecast.model.model import build_model, model_inputs

    model = build_model(case)
    tree = result.tree.copy()
    tree = pm.compute_log_likelihood(tree, model=model, progressbar=False)
    tree = pm.stats.compute_log_prior(tree, model=model, progressbar=False)
    inputs = model_inputs(case)
    loglik = tree["log_likelihood"].to_dataset()
    if len(inputs["judgment_logit"]):
        log_odds = tree["posterior"]["log_odds"]
        resid = inputs["judgment_logit"] - log_odds.values[..., None]
        q = np.linalg.inv(judgment_covariance(inputs["judgment_sd"], inputs["judgment_shared_sd"]))
        loglik["judgments"] = (log_odds.dims, -0.5 * mahalanobis(resid, q))
    loglik = loglik[[v for v in LIKELIHOOD_PARTS if v in loglik.data_vars and loglik[v].size > 0]]
    tree["log_likelihood"] = loglik
    names = [v for v in ("p", "base", "weight", "level") if v in tree["posterior"].data_vars]
    logger = logging.getLogger("arviz_stats.psense")
    old = logger.level
    logger.setLevel(logging.ERROR)  # its "potential issues" warning is replaced by our verdict
    try:
        summary = az.psense_summary(tree, var_names=names, alphas=alphas)
        for var in loglik.data_vars:
            part = az.psense(tree, var_names=names, group="likelihood", alphas=alphas, group_var_names=[var])
            summary[f"likelihood: {LIKELIHOOD_PARTS[var]}"] = _per_row(part, summary.index)
    finally:
        logger.setLevel(old)
    rows = []
    for var in tree["log_prior"].data_vars:
        da = tree["log_prior"][var]
        dims = [d for d in da.dims if d not in ("chain", "draw")]
        coords = [None] if not dims else [None, *({dims[0]: [c]} for c in da[dims[0]].values.tolist())]
        for coord in coords:
            value = az.psense(tree, var_names=["p"], group="prior", alphas=alphas, group_var_names=[var], group_coords=coord)
            if coord is None:
                label, item = (f"{var} (all)" if dims else var), None
            else:
                item = next(iter(coord.values()))[0]
                label = f"{var}[{item}]"
            rows.append({"prior": label, "variable": var, "indicator": item, "sensitivity_of_p": float(value["p"])})
    comp = pd.DataFrame(rows).set_index("prior").sort_values("sensitivity_of_p", ascending=False)
    comp["informative"] = comp["sensitivity_of_p"] >= THRESHOLD
    return PriorSensitivity(summary, comp, verdict(summary, comp))


def _per_row(sens, index) -> list[float]:
    """The values of an ArviZ ``psense`` Dataset in the order of ``psense_summary``'s rows (``weight[army]``, ...)."""
    values = {}
    for var, da in sens.data_vars.items():
        if da.ndim == 0:
            values[var] = float(da)
        else:
            dim = da.dims[0]
            for c, v in zip(da[dim].values.tolist(), np.asarray(da.values).ravel()):
                values[f"{var}[{c}]"] = float(v)
    return [round(values.get(str(i), np.nan), 3) for i in index]


PART_ORDER = ("readings", "reference outcomes", "judgments")


def verdict(summary: pd.DataFrame, components: pd.DataFrame) -> str:
    """The power-scaling result for P(event) in plain words, with advice that fits the case.

    The likelihood's parts the case has are read from the ``likelihood: <part>`` columns of
    ``summary`` (:func:`prior_sensitivity`); without them the likelihood is called "the evidence".
    Advice for a weakly informed parameter names evidence the case can still add: readings for a
    level; for a weight or the base rate, reference cases if the case has none, otherwise more cases
    of the class or codings of the indicators left uncoded, and expert judgments if it has none.
    """
    prior, lik = float(summary.loc["p", "prior"]), float(summary.loc["p", "likelihood"])
    parts = [p for p in PART_ORDER if f"likelihood: {p}" in summary.columns]
    together = f": {_and(parts)} together" if len(parts) > 1 else f": the {parts[0]}" if parts else ""
    evidence = f"the evidence ({lik:.2f}{together})"
    if prior >= THRESHOLD and lik >= THRESHOLD:
        head = (f"Both the priors (sensitivity {prior:.2f}) and {evidence} move P(event) "
                f"(threshold {THRESHOLD}). ArviZ calls this a potential prior-data conflict; it means the "
                "stated priors matter as much as the evidence, so state them with care.")
    elif prior >= THRESHOLD:
        head = (f"P(event) is driven by the priors (sensitivity {prior:.2f} ≥ {THRESHOLD}) and little by "
                f"{evidence}: the result is mostly what the analyst stated.")
    elif lik >= THRESHOLD:
        head = (f"P(event) is driven by {evidence} and not much by the priors "
                f"({prior:.2f} < {THRESHOLD}): the evidence, not the stated priors, sets the result.")
    else:
        head = (f"P(event) is insensitive to both the priors ({prior:.2f}) and {evidence} "
                f"at the {THRESHOLD} threshold.")
    if len(parts) > 1:
        by_part = sorted(((float(summary.loc["p", f"likelihood: {p}"]), p) for p in parts), reverse=True)
        head += " Scaled one part at a time: " + ", ".join(f"the {p} {v:.2f}" for v, p in by_part) + "."
    top = components[components["informative"]].head(3)
    if len(top):
        named = ", ".join(f"{_prior_name(i)} ({v:.2f})" for i, v in top["sensitivity_of_p"].items())
        head += f" The priors that move it most: {named}."
    else:
        head += " No prior moves it above the threshold on its own" + (
            f" (the largest: {_prior_name(components['sensitivity_of_p'].idxmax())}, {components['sensitivity_of_p'].max():.2f})."
            if len(components) else ".")
    rows = summary.drop(index="p", errors="ignore")
    weak = [i for i, r in rows.iterrows() if r["prior"] >= THRESHOLD and r["likelihood"] < THRESHOLD]
    if weak:
        groups = {}
        for i in weak:
            groups.setdefault(str(i).split("[")[0], []).append(i)
        plural = {"weight": "weights", "level": "levels"}
        described = [f"{len(v)} of the {sum(str(j).split('[')[0] == name for j in rows.index)} {plural.get(name, name)}" if "[" in str(v[0])
                     else ("the base rate" if name in BASE_NAMES else name) for name, v in groups.items()]
        head += (f" The data barely inform {', '.join(described)}: those rest on the analyst's statements alone. "
                 + _advice(set(groups), parts))
    return head


def _and(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _advice(groups: set, parts: list) -> str:
    """What evidence would inform the weakly informed parameter groups, given the parts the case has."""
    groups = {"base" if g in BASE_NAMES else g for g in groups}
    known = bool(parts)
    has_refs, has_judgments = "reference outcomes" in parts, "judgments" in parts
    helps = []
    if "level" in groups:
        helps.append("for the levels, readings from sources independent of those already cited")
    if groups & {"weight", "base"}:
        if not known:
            helps.append("for the weights and the base rate, reference cases or a second opinion")
        else:
            refs = ("more cases of the reference class, or codings of the indicators the reference cases leave uncoded"
                    if has_refs else "reference cases coded on the indicators (reference_cases.csv, reference_codings.csv)")
            more = "" if has_judgments else ", or expert judgments of the event (judgments.csv)"
            helps.append(f"for the {'weights' if 'weight' in groups else 'base rate'}"
                         f"{' and the base rate' if {'weight', 'base'} <= groups else ''}, {refs}{more}")
    others = sorted(groups - {"level", "weight", "base"})
    if others:
        helps.append(f"for {', '.join(others)}, a second opinion on the stated value")
    return "What would help: " + "; ".join(helps) + "."


def _prior_name(label: str) -> str:
    if label.endswith(" (all)"):
        return {"weight": "the weights together", "level": "the level priors together"}.get(label[:-6], label)
    if label in BASE_NAMES:
        return "the base rate"
    if label.startswith("weight["):
        return f"the weight of {label[7:-1]}"
    if label.startswith("level["):
        return f"the level prior of {label[6:-1]}"
    return label


LATENT = "intervention on the latent level"
"""What the level tipping points are: the level set in every posterior draw, in latent-level units."""


@dataclass
class Sensitivity:
    """Tornado, tipping points (latent level; in readings), value of information and prior sensitivity of one fitted case.

    ``evidence_tipping`` (:func:`forecast.analysis.evidence_value.evidence_tipping`) and ``value``
    (:func:`forecast.analysis.evidence_value.value_of_information`) are ``None`` when computed without a case.
    """

    tornado: pd.DataFrame
    tipping: pd.DataFrame
    prior: PriorSensitivity | None = None
    baseline: dict[str, Any] = field(default_factory=dict)
    case_id: str = ""
    question: str = ""
    evidence_tipping: pd.DataFrame | None = None
    value: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        indicators = []
        for k, row in self.tornado.iterrows():
            tip = self.tipping.loc[k]
            indicators.append({
                "id": k, "name": row["name"], "direction": row["direction"], "range": row["range"],
                "level_low": row["level_low"], "level_high": row["level_high"], "level_mean": row["level_mean"],
                "p_low": row["p_low"], "p_high": row["p_high"], "swing": row["swing"],
                "tipping_points": {
                    way: {"band": tip[f"{way}_band"], "edge": _nan_none(tip[f"{way}_edge"]),
                          "level": _nan_none(tip[f"level_{way}"]), "text": tip[f"{way}_text"], "kind": LATENT}
                    for way in ("up", "down")
                },
                **self._evidence(k),
            })
        return {
            "case": self.case_id,
            "question": self.question,
            "baseline": self.baseline,
            "range": self.tornado["range"].iloc[0] if len(self.tornado) else None,
            "tipping_points_kind": LATENT,
            "evidence_tipping_method": None if self.evidence_tipping is None else (
                "New readings of one indicator from independent sources at the forecast date, each with sd "
                f"{float(self.evidence_tipping['reading_sd'].iloc[0]):.2f} (log-odds); the posterior reweighted by their "
                "likelihood (PSIS, k-hat checked) or refitted when reweighting is not trusted"),
            "value_of_information_method": None if self.value is None else (
                f"Preposterior: {int(self.value['simulated'].iloc[0])} readings simulated per indicator from the posterior "
                "predictive, the posterior reweighted by each; the share whose mean P changes band"),
            "indicators": indicators,
            "prior_sensitivity": self.prior.to_dict() if self.prior else None,
        }

    def _evidence(self, k: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.evidence_tipping is not None:
            rows = self.evidence_tipping[self.evidence_tipping["indicator"] == k].set_index("way")
            out["evidence_tipping_points"] = {
                way: {"band": None if pd.isna(r["target_band"]) else r["target_band"], "readings": None if pd.isna(r["readings"]) else int(r["readings"]),
                      "reading_level": float(r["reading_level"]), "grade": r["grade"], "p": _nan_none(float(r["p"])),
                      "khat": _nan_none(float(r["khat"])), "path": r["path"], "refits": int(r["refits"]), "text": r["text"]}
                for way, r in rows.iterrows()
            }
        if self.value is not None:
            v = self.value.loc[k]
            out["value_of_information"] = {name: float(v[name]) for name in
                                           ("chance_cross", "chance_up", "chance_down", "expected_abs_change", "min_ess")}
            out["value_of_information"]["grade"] = v["grade"]
        return out


def _nan_none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def analyse(result, case=None, *, range: RangeKind = "posterior", prior: bool = True, evidence: bool = True, compiled=None,
            settings=None, grade: str | None = None, max_readings: int | None = None, seed: int = 0) -> Sensitivity:
    """Tornado and latent-level tipping points; with a ``case`` also (``evidence=True``) the tipping
    points counted in new readings and the value of information
    (:mod:`forecast.analysis.evidence_value`) and (``prior=True``) the prior-sensitivity check.

    ``compiled`` and ``settings`` serve the refits of the reading counts when reweighting is not
    trusted (without ``compiled`` such counts are left open); ``grade`` (default B2) and
    ``max_readings`` (default 20) describe the hypothetical readings; ``seed`` seeds the simulated ones.
    """
    from forecast.analysis import evidence_value as ev

    draws = Draws.from_forecast(result)
    names = [i["name"] for i in result.indicators]
    grade = grade or ev.DEFAULT_GRADE
    tipping_in_readings = value = None
    if case is not None and evidence:
        tipping_in_readings = ev.evidence_tipping(draws, case, compiled=compiled, settings=settings, names=names, grade=grade,
                                                  max_readings=max_readings or ev.MAX_READINGS)
        value = ev.value_of_information(draws, case, names=names, grade=grade, seed=seed)
    return Sensitivity(
        tornado=tornado(result, range=range),
        tipping=tipping_points(result),
        prior=prior_sensitivity(result, case) if prior and case is not None else None,
        baseline=plain_summary(summarise(draws.p())),
        case_id=result.config["case"]["id"],
        question=result.question,
        evidence_tipping=tipping_in_readings,
        value=value,
    )
