"""One question of a portfolio, as one task on a worker: load, fit, write its run folder, return its row.

:func:`fit_case` is what travels to a worker, with a :class:`CaseJob` (a case folder path, the
folder of run folders, the fit settings and what the last portfolio run recorded for this case).
It returns one plain row (a dict of numbers and strings): that, not the posterior, travels back.

- The case is loaded and validated (an invalid case raises :class:`~forecast.errors.CaseError`,
  which the engine captures: the row then says ``invalid`` with the problems).
- If the case's input hash (:meth:`forecast.case.load.Case.input_hash`, the SHA-256 of every input
  file) and the fit settings equal those of the last portfolio run, and that run's folder is still
  there, nothing is fitted: the row says ``unchanged``.
- Otherwise the model is compiled (once per structure per worker, :func:`forecast.analysis.parallel.compiled_for`),
  sampled, and a new run folder (never overwritten, never half-written:
  :func:`forecast.output.run_folder.run_folder`) receives the briefing
  (:func:`forecast.output.report.fill_report_folder`: ``report.html`` and ``forecast.nc``) and
  ``summary.json``/``summary.md`` (:func:`forecast.output.summaries.write_summary`, the same summary
  ``forecast run`` writes). The row says ``ok``, or ``not converged`` when the chains disagree
  (largest R-hat above :data:`forecast.model.posterior.RHAT_MAX`); the other diagnostics warnings
  (few effective draws, divergences) are listed in ``warnings``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RUN_COMMAND = "portfolio"


@dataclass(frozen=True)
class CaseJob:
    """What a worker needs to fit one question (small and picklable).

    Attributes
    ----------
    folder : str
        The case folder (a path every worker can read).
    runs : str
        Where the case's new run folder goes (a path every worker can write).
    settings : dict
        :class:`~forecast.model.fit.FitSettings` as a dict.
    previous : dict
        The last portfolio run's ``input_hash``, ``settings`` (JSON text) and ``run_dir`` for this
        case (empty when there was none).
    """

    folder: str
    runs: str
    settings: dict
    previous: dict = field(default_factory=dict)


def settings_text(settings: dict) -> str:
    """The fit settings as one canonical JSON text (how the table stores and compares them)."""
    return json.dumps(settings, sort_keys=True)


def fit_case(job: CaseJob) -> dict[str, Any]:
    """Fit the question in ``job.folder`` unless it is unchanged; return its row (see the module docstring)."""
    from forecast.case.scaffold import load_filled_case

    start = time.perf_counter()
    case = load_filled_case(job.folder)
    digest = case.input_hash()
    row: dict[str, Any] = {"case": case.id, "folder": job.folder, "input_hash": digest, "settings": settings_text(job.settings),
                           **question_fields(case)}
    prev = job.previous or {}
    if (prev.get("input_hash") == digest and prev.get("settings") == row["settings"]
            and prev.get("run_dir") and (Path(prev["run_dir"]) / "summary.json").is_file()):
        return {**row, "status": "unchanged", "seconds": time.perf_counter() - start}
    result, run_dir = _fit_and_write(case, job)
    return {**row, **result_fields(result), "run_dir": str(run_dir), "report": str(run_dir / "report.html"),
            "seconds": time.perf_counter() - start}


def question_fields(case) -> dict[str, Any]:
    """The question's title, text, outcome and resolution date (outcome empty while open)."""
    q = case.spec.question
    return {"title": case.spec.case.title, "question": q.text, "horizon": q.horizon.isoformat(), "outcome": q.outcome or "",
            "resolved_on": q.resolved_on.isoformat() if q.resolved_on else ""}


def result_fields(result) -> dict[str, Any]:
    """A fit's row fields: P (mean), its interval and words, the diagnostics and the status."""
    from forecast.model.posterior import RHAT_MAX

    row = result.probability().iloc[0]
    d = result.diagnostics()
    converged = d.r_hat_max <= RHAT_MAX
    return {
        "status": "ok" if converged else "not converged",
        "p": float(row["mean"]), "median": float(row["median"]), "hdi_low": float(row["hdi_low"]), "hdi_high": float(row["hdi_high"]),
        "hdi_prob": float(row["hdi_prob"]), "words": row["words"], "band_warning": row["warning"] or "",
        "r_hat_max": d.r_hat_max, "ess_bulk_min": d.ess_bulk_min, "divergences": d.divergences,
        "warnings": "; ".join(d.warnings),
        "error": "" if converged else f"not converged: R-hat {d.r_hat_max:.4f} > {RHAT_MAX}; run more draws (--draws)",
        "evidence_date": result.evidence_date or "",
    }


def _fit_and_write(case, job: CaseJob):
    from forecast.analysis.parallel import compiled_for
    from forecast.model.fit import FitSettings, sample
    from forecast.output.report import fill_report_folder
    from forecast.output.run_folder import run_folder, run_name
    from forecast.output.summaries import summary_markdown, write_summary

    settings = FitSettings(**job.settings)
    result = sample(compiled_for(case), case, settings, progress=False)
    with run_folder(job.runs, run_name(case.id, RUN_COMMAND, settings.seed)) as folder:
        fill_report_folder(folder.path, result, case)
        summary = {"command": RUN_COMMAND, **result.to_dict(), "settings": asdict(settings), "input_hash": case.input_hash(),
                   "case_dir": job.folder}
        write_summary(folder.path, summary, summary_markdown(result))
    return result, folder.final
