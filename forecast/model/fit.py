"""Fitting a case: compile the PyMC model once with nutpie and sample it.

The sampler is nutpie's NUTS (numba backend). With the same case, settings and seed, the draws are
identical: nutpie seeds chain ``c`` from ``seed`` deterministically and each chain runs on its own.
Compiling goes through the compile cache (:mod:`forecast.model.compile`), whose draws are
bit-identical to stock nutpie's.

:func:`resample` is the editor's fast re-sample: warm-started from the latest fit of the same
compiled model (its final step sizes and last unconstrained draws), it keeps
``n = max(100, ceil(safety * min_ess / (chains * e)))`` draws per chain after :data:`WARM_TUNE`
warm-up draws, where ``e`` is the smallest bulk effective sample size per draw of that fit, so
the new draws' effective sample size is about ``safety * min_ess``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from forecast.case.load import Case
from forecast.model.model import OBSERVED, build_model, data_coords, data_dims, model_inputs
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


THREADS_ENV = "FORECAST_SAMPLER_THREADS"
"""Environment variable: the most threads nutpie runs chains on (default 2). Dask workers that fit
many cases side by side set it to 1 (:mod:`forecast.analysis.parallel`); the draws do not depend on it."""


def sampler_threads(chains: int) -> int:
    """Threads to sample ``chains`` chains on: ``min(chains, $FORECAST_SAMPLER_THREADS or 2)``, at least 1."""
    import os

    return max(1, min(chains, int(os.environ.get(THREADS_ENV) or 2)))


def compile_case(case: Case):
    """Compile the nutpie model of ``case`` (reuse it with ``with_data``).

    The sampler's machine code comes from the compile cache (:mod:`forecast.model.compile`) when a
    model of the same structure was compiled before, in any process; the first time takes a while.
    """
    from forecast.model.compile import compile_model

    return compile_model(build_model(case))


def draw(compiled, inputs: dict, settings: FitSettings, *, progress: bool = False):
    """Run nutpie on ``compiled`` with data ``inputs``: the raw DataTree (posterior, sample stats).

    Every fit in the package goes through here, so they all sample with the same settings and seeding.
    """
    import nutpie

    tree = nutpie.sample(
        compiled.with_data(**inputs),
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=sampler_threads(settings.chains),
        seed=settings.seed,
        save_warmup=False,
        progress_bar=progress,
        store_unconstrained=True,
    )
    _remember(compiled, tree)
    return tree


_RECENT: dict = {}
"""id of a compiled model -> (weak reference to it, its latest fit): what :func:`resample` warms from."""


def _remember(compiled, tree) -> None:
    import weakref

    for key in [k for k, (ref, _) in _RECENT.items() if ref() is None]:
        del _RECENT[key]
    _RECENT[id(compiled)] = (weakref.ref(compiled), tree)


def _recent(compiled):
    ref, tree = _RECENT.get(id(compiled), (lambda: None, None))
    return tree if ref() is compiled else None


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
    stats = stats.drop_vars([v for v in stats.data_vars if stats[v].dtype == object or v == "unconstrained_draw"])
    coords = data_coords(case)
    dims = {k: data_dims(k) for k in inputs}
    constant = xr.Dataset(
        {k: (dims[k], v) for k, v in inputs.items() if k not in OBSERVED},
        coords={d: c for d, c in coords.items() if any(d in dims[k] for k in inputs if k not in OBSERVED)},
    )
    observed = xr.Dataset(
        {OBSERVED[k]: (dims[k], inputs[k]) for k in OBSERVED},
        coords={d: coords[d] for k in OBSERVED for d in data_dims(k)},
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



WARM_TUNE = 100
"""Warm-up draws per chain of a warm-started re-sample (the step size and start points are known)."""


@dataclass(frozen=True)
class Resampled:
    """The draws of :func:`resample`, kept as plain arrays (no DataTree is built).

    Attributes
    ----------
    posterior : dict of str to numpy.ndarray
        Each stored variable, shape ``(chain, draw, ...)``.
    step_size : numpy.ndarray
        Each chain's final step size.
    last_point : numpy.ndarray
        Each chain's last draw on the unconstrained scale, shape ``(chain, n_dim)``.
    ess_per_draw : float
        Bulk effective sample size per draw of the slowest parameter, from the fit it warmed from.
    """

    posterior: dict
    step_size: object
    last_point: object
    ess_per_draw: float


def resample(compiled, inputs: dict, settings: FitSettings, *, warm_from=None, min_ess: float = 200.0, safety: float = 2.0) -> Resampled:
    """Re-sample an edited case fast: warm-started from a fit in hand, with only the draws it needs.

    From ``warm_from`` it takes each chain's final step size as the initial step size, the chains'
    last unconstrained draws as start points, and the effective sample size per draw of the slowest
    parameter, ``e``. It then draws ``ceil(safety * min_ess / (chains * e))`` per chain (at least
    100, at most ``settings.draws``) after :data:`WARM_TUNE` warm-up draws, so that the draws'
    effective sample size is about ``safety * min_ess``. Without a fit in hand it samples as
    ``settings`` say. nutpie's raw trace is read straight into arrays.

    Parameters
    ----------
    compiled : nutpie compiled model
    inputs : dict
        Model inputs (:func:`forecast.model.model.model_inputs`).
    settings : FitSettings
        Chains and seed; ``draws`` and ``tune`` are the upper limits.
    warm_from : Resampled or xarray.DataTree, optional
        Default: the latest fit of ``compiled`` in this process (every fit goes through :func:`draw`
        or this function).
    min_ess : float
        Effective sample size the draws should reach.
    safety : float
        Factor on the draws the fit in hand says are needed.

    Returns
    -------
    Resampled
    """
    import dataclasses
    import math

    import numpy as np
    import nutpie

    draws, tune, extra = settings.draws, settings.tune, {}
    model = compiled.with_data(**inputs)
    warm = _warm_info(warm_from if warm_from is not None else _recent(compiled))
    per_draw = 0.0
    if warm is not None:
        steps, points, per_draw = warm
        tune = min(tune, WARM_TUNE)
        extra["initial_step"] = float(np.mean(steps))
        if per_draw > 0:
            draws = int(min(draws, max(100, math.ceil(safety * min_ess / (settings.chains * per_draw)))))
        if points is not None:

            def start(seed, _points=points):
                return np.array(_points[np.random.default_rng(seed).integers(len(_points))], dtype=float)

            model = dataclasses.replace(model, initial_point_func=start)
    raw = nutpie.sample(
        model, draws=draws, tune=tune, chains=settings.chains, cores=sampler_threads(settings.chains), seed=settings.seed,
        save_warmup=False, progress_bar=False, store_unconstrained=True, return_raw_trace=True, **extra,
    )
    out = _from_raw(raw, per_draw)
    _remember(compiled, out)
    return out


def _from_raw(raw, ess_per_draw: float) -> Resampled:
    """The kept draws, final step sizes and last unconstrained points of nutpie's raw (arrow) trace."""
    import numpy as np
    import pyarrow

    def column(batch, name, rows):
        col = batch.column(name)
        meta = col.field.metadata or {}
        shape = [int(x) for x in meta[b"shape"].decode().split(",")] if meta.get(b"shape") else []
        col = pyarrow.array(col)
        values = col.flatten() if hasattr(col, "flatten") else col
        return values.to_numpy(False).reshape(len(col), *shape)[rows]

    draw_batches, stat_batches = raw.get_arrow_trace()
    posterior, steps, last = {}, [], []
    for d, st in zip(draw_batches, stat_batches):
        kept = ~pyarrow.array(st.column("tuning")).to_numpy(False).astype(bool)
        for name in d.column_names:
            posterior.setdefault(name, []).append(column(d, name, kept))
        steps.append(column(st, "step_size", kept)[-1])
        last.append(column(st, "unconstrained_draw", kept)[-1])
    posterior = {k: np.stack(v) for k, v in posterior.items()}
    ess = ess_per_draw if ess_per_draw > 0 else _ess_per_draw(np.stack([column(st, "unconstrained_draw", slice(None)) for st in stat_batches]))
    return Resampled(posterior, np.array(steps), np.array(last), ess)


def _warm_info(fit):
    """(final step sizes, last unconstrained points or None, ESS per draw) of a fit, or None."""
    import numpy as np

    if isinstance(fit, Resampled):
        return fit.step_size, fit.last_point, fit.ess_per_draw
    if fit is None or "step_size" not in fit["sample_stats"]:
        return None
    stats = fit["sample_stats"]
    points = np.asarray(stats["unconstrained_draw"])[:, -1, :] if "unconstrained_draw" in stats else None
    sample = np.asarray(stats["unconstrained_draw"]) if points is not None else np.concatenate(
        [np.asarray(v).reshape(*v.shape[:2], -1) for v in fit["posterior"].to_dataset().data_vars.values()], axis=2
    )
    return np.asarray(stats["step_size"])[:, -1], points, _ess_per_draw(sample)


def _ess_per_draw(sample) -> float:
    """The smallest bulk effective sample size per draw over the last axis of ``(chain, draw, k)`` (0 if unknown)."""
    import numpy as np
    from arviz_stats.base import array_stats

    sample = np.moveaxis(np.asarray(sample, dtype=float), 2, 0)
    low = float(np.nanmin(array_stats.ess(sample, chain_axis=-2, draw_axis=-1)))
    return low / (sample.shape[1] * sample.shape[2]) if np.isfinite(low) else 0.0


def flat_draws(fit, names) -> dict:
    """Posterior draws of ``names`` from a :class:`Resampled` or a DataTree, chains stacked on the first axis."""
    import numpy as np

    post = fit.posterior if isinstance(fit, Resampled) else {v: np.asarray(fit["posterior"][v]) for v in names}
    return {v: np.asarray(post[v]).reshape(-1, *np.shape(post[v])[2:]) for v in names}
