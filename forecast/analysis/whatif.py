"""One API under scenarios, sensitivity and the timeline: :class:`WhatIf`.

It compiles the case's model once and fits the baseline once, then serves all three analyses
(and the CLI's ``scenarios``, ``sensitivity`` and ``timeline`` commands) from them::

    import forecast as fc
    from forecast.analysis.whatif import WhatIf

    wi = WhatIf(fc.load_case("data/belarus"), fc.FitSettings(seed=1))
    wi.scenarios().table()          # forecast.scenarios: P, interval, words, difference, path
    wi.sensitivity().tornado        # forecast.sensitivity: tornado, tipping points, value of information, prior check
    wi.timeline().table             # forecast.timeline: P as of each evidence date

:mod:`forecast.output.summaries` writes each analysis into a run folder.
"""

from __future__ import annotations

from forecast.model.draws import DEFAULT_HDI_PROB

from pathlib import Path
from typing import Any



class WhatIf:
    """A case with one compiled model and one baseline fit, shared by every what-if analysis.

    Parameters
    ----------
    case : Case
    settings : FitSettings, optional
        For the baseline, the refits and the timeline (same seed throughout).
    compiled : nutpie compiled model, optional
        Reuse a model compiled earlier (e.g. a test fixture); compiled on first need otherwise.
    baseline : Forecast, optional
        Reuse a baseline fit; sampled on first need otherwise.
    progress : bool
        Show nutpie's progress bars.
    """

    def __init__(self, case, settings=None, *, compiled=None, baseline=None, progress: bool = False):
        from forecast.model.fit import FitSettings

        self.case = case
        self.settings = settings or FitSettings()
        self._compiled = compiled
        self._baseline = baseline
        self.progress = progress

    @property
    def compiled(self):
        """The nutpie model, compiled once."""
        if self._compiled is None:
            from forecast.model.fit import compile_case

            self._compiled = compile_case(self.case)
        return self._compiled

    @property
    def baseline(self):
        """The :class:`~forecast.model.posterior.Forecast` of the case as it stands."""
        if self._baseline is None:
            from forecast.model.fit import sample

            self._baseline = sample(self.compiled, self.case, self.settings, progress=self.progress)
        return self._baseline

    def scenarios(self, scenarios=None, *, path=None, sense=None, hdi_prob: float = DEFAULT_HDI_PROB):
        """Evaluate ``scenarios`` (default: the case's ``scenarios.toml``, or ``path``) in both senses,
        ``sense`` (default: each scenario's own) in the headline. See :mod:`forecast.analysis.scenarios`."""
        from forecast.case.scenarios import load_scenarios
        from forecast.analysis.scenarios import run_scenarios

        if scenarios is None:
            scenarios = load_scenarios(self.case, path)
        return run_scenarios(self.baseline, self.case, scenarios, compiled=self.compiled, settings=self.settings, sense=sense,
                             hdi_prob=hdi_prob, progress=self.progress)

    def sensitivity(self, *, range: str = "posterior", prior: bool = True, evidence: bool = True, grade: str | None = None,
                    max_readings: int | None = None):
        """Tornado, tipping points (latent level and in readings), value of information and prior sensitivity.
        See :mod:`forecast.analysis.sensitivity`."""
        from forecast.analysis.sensitivity import analyse

        return analyse(self.baseline, self.case, range=range, prior=prior, evidence=evidence, compiled=self.compiled, settings=self.settings,
                       grade=grade, max_readings=max_readings, seed=self.settings.seed)

    def timeline(self, *, dates=None, hdi_prob: float = DEFAULT_HDI_PROB):
        """P(event) as of each evidence date. See :mod:`forecast.analysis.timeline`."""
        from forecast.analysis.timeline import timeline

        return timeline(self.case, self.settings, compiled=self.compiled, dates=dates, hdi_prob=hdi_prob, progress=self.progress)

