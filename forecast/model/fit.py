"""Fitting a case: compile the PyMC model once with nutpie and sample it.

The sampler is nutpie's NUTS (numba backend). With the same case, settings and seed, the draws are
identical: nutpie seeds chain ``c`` from ``seed`` deterministically and each chain runs on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from forecast.case.load import Case
from forecast.model.model import DATA_DIMS, OBSERVED, build_model, data_coords, model_inputs
from forecast.model.posterior import Forecast


@dataclass(frozen=True)
class FitSettings:
    """How to sample.

    Attributes
    ----------
    draws, tune : int
        Kept draws and warm-up draws per chain.
    chains : int
        Independent chains (four give R-hat something to compare).
    seed : int
        Random seed: the same seed, case and settings give the same draws.
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 0

    def __post_init__(self):
        for name in ("draws", "tune", "chains"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.chains < 2:
            raise ValueError("chains must be at least 2 so that R-hat can be computed")


def compile_case(case: Case):
    """Compile the nutpie model of ``case`` (the slow step; reuse it with ``with_data``)."""
    import nutpie

    return nutpie.compile_pymc_model(build_model(case))


def draw(compiled, inputs: dict, settings: FitSettings, *, progress: bool = False):
    """Run nutpie on ``compiled`` with data ``inputs``: the raw DataTree (posterior, sample stats).

    Every fit in the package goes through here, so they all sample with the same settings and seeding.
    """
    import nutpie

    return nutpie.sample(
        compiled.with_data(**inputs),
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=min(settings.chains, 2),
        seed=settings.seed,
        save_warmup=False,
        progress_bar=progress,
    )


def sample(compiled, case: Case, settings: FitSettings, *, progress: bool = True) -> Forecast:
    """Sample an already compiled model with ``case``'s data and wrap the result.

    Parameters
    ----------
    compiled : nutpie compiled model
        From :func:`compile_case` on a case with the same indicators.
    case : Case
        The case whose inputs to sample with.
    settings : FitSettings
    progress : bool
        Show nutpie's progress bar.
    """
    import nutpie
    import xarray as xr

    inputs = model_inputs(case)
    tree = draw(compiled, inputs, settings, progress=progress)
    stats = tree["sample_stats"].to_dataset()
    stats = stats.drop_vars([v for v in stats.data_vars if stats[v].dtype == object])
    coords = data_coords(case)
    dims = {k: (DATA_DIMS[k],) if DATA_DIMS[k] else () for k in inputs}
    constant = xr.Dataset(
        {k: (dims[k], v) for k, v in inputs.items() if k not in OBSERVED},
        coords={d: c for d, c in coords.items() if any(d in dims[k] for k in inputs if k not in OBSERVED)},
    )
    observed = xr.Dataset(
        {OBSERVED[k]: (dims[k], inputs[k]) for k in OBSERVED},
        coords={DATA_DIMS[k]: coords[DATA_DIMS[k]] for k in OBSERVED},
    )
    tree = xr.DataTree.from_dict(
        {
            "posterior": tree["posterior"].to_dataset(),
            "sample_stats": stats,
            "constant_data": constant,
            "observed_data": observed,
        }
    )
    config = {
        **case.config(),
        "fit": {**asdict(settings), "sampler": f"nutpie {nutpie.__version__}", "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
    }
    return Forecast(tree, config, case.input_hash())


def fit(case: Case, settings: FitSettings | None = None, *, progress: bool = True) -> Forecast:
    """Fit ``case``: build and compile its model, sample, and return the :class:`Forecast`.

    Parameters
    ----------
    case : Case
        A validated case (:func:`forecast.load_case`).
    settings : FitSettings, optional
        Draws, warm-up, chains and seed; the defaults give 4 000 kept draws.
    progress : bool
        Show a progress bar while sampling.

    Returns
    -------
    Forecast
    """
    settings = settings or FitSettings()
    return sample(compile_case(case), case, settings, progress=progress)

