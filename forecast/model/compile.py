"""A compile cache for the sampler: nutpie's numba wrappers built once per model structure, on disk.

``nutpie.compile_pymc_model`` builds two C callbacks around PyTensor's compiled log density (with
gradient) and "expand" functions. PyTensor caches those inner functions on disk, but nutpie's
wrappers close over the model's arrays and uuid-named fields, so numba recompiles them in every
process (about 20 s here). :func:`compile_model` builds the same model with the same two wrappers
written as plain generated source instead: each wrapper reads every shared array (the case's
``pm.Data``) through the pointers, sizes and shapes that nutpie keeps in its ``user_data`` record,
so nothing of a case is compiled in, and ``numba.cfunc(..., cache=True)`` can load the machine code
of a second process from disk. The wrappers' source and the graph key are in
:mod:`forecast.model.wrappers`; this module builds, keys, stores and loads.

A hit costs only building the model's graphs: the key is made of the log-density/gradient and
expand graphs as the model states them, before PyTensor rewrites them (:func:`graph_key`: each
node's op and properties, its inputs' positions and types, each constant's bytes), so a process
that finds its entry loads the wrappers' machine code (which holds the inner functions' code)
without PyTensor rewriting and compiling those functions again. The rewritten graph follows from
that graph, the rewrites registered (their names are in the key), the PyTensor settings that steer
rewriting and code generation (:data:`_SETTINGS`) and the library versions. The full key is the
SHA-256 of: both wrapper sources (which fix the number of parameters, the expanded length, the
``user_data`` layout and each shared array's dtype and rank), the wrappers' module name, the two
graph keys, the model's ``check_bounds``, the order, dtype and rank of the shared inputs, the
dimensions, the C signatures, those settings and rewrite names, Python's version and the versions
of nutpie, numba, llvmlite, pytensor, pymc and numpy. Numba adds the CPU.

Safety: every entry has a manifest of the SHA-256 of its files. An entry whose files do not match
it, or that numba cannot load, is deleted and compiled again after a one-line notice. The wrappers
of a hit are loaded with stand-ins for PyTensor's functions that numba cannot compile, so numba can
only load the entry, never compile something else under its key. Any other failure to build, read
or write the cache compiles the model with stock ``nutpie.compile_pymc_model`` after a one-line
notice. Files are written to a temporary name and renamed, so concurrent processes never read half
an entry. With ``FORECAST_COMPILE_CACHE=off`` every compile is stock.

This module uses nutpie internals (``nutpie.compile_pymc._make_functions``, ``make_user_data``,
``_prepare_dims_and_coords``, ``_wrap_with_lock``, ``CompiledPyMCModel`` and the layout of its
``user_data`` record), so pyproject pins nutpie's minor version (``nutpie>=0.16.10,<0.17``);
``tests/test_compile_cache.py`` fails loudly when they move. On a hit, the model's ``logp_func`` and
``expand_func`` are PyTensor functions of the unrewritten graphs (Python implementations): correct,
slow, and not used by the sampler.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from forecast.model.wrappers import EXPAND_SIG, LOGP_SIG, address_as_void_pointer, graph_key, word_offsets, wrapper_sources

CACHE_ENV = "FORECAST_CACHE_DIR"
"""Environment variable that moves the cache (default: the user's cache folder, via platformdirs)."""

SWITCH_ENV = "FORECAST_COMPILE_CACHE"
"""Set to ``off`` to compile every model with stock ``nutpie.compile_pymc_model``."""

MODULE = __name__
"""Module of the generated wrappers (part of the key): an importable one, so numba can load them."""

PREFIX = "string.forecast_"
"""How the cache files of the generated wrappers begin (numba names them after the source file)."""

FORMAT = 1
"""Version of this module's wrapper design, part of the key."""

log = logging.getLogger("forecast")

def cache_dir() -> Path:
    """The folder of the compile cache: ``$FORECAST_CACHE_DIR``, else the user's cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("forecast")) / "sampler"


def _entry_files(folder: Path) -> list[Path]:
    def ours(p: Path) -> bool:
        is_manifest = p.suffix == ".ok" and len(p.stem) == 64 and all(c in "0123456789abcdef" for c in p.stem)
        return p.is_file() and (p.name.startswith(PREFIX) or is_manifest)

    return sorted(p for p in folder.glob("*") if ours(p))


def cache_info() -> dict:
    """Where the cache is and what it holds.

    Returns
    -------
    dict
        ``path``, ``entries`` (compiled models), ``files``, ``bytes``, and ``enabled`` (False when
        ``FORECAST_COMPILE_CACHE=off``).
    """
    folder = cache_dir()
    files = _entry_files(folder) if folder.is_dir() else []
    return {
        "path": str(folder),
        "entries": sum(p.suffix == ".ok" for p in files),
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "enabled": _enabled(),
    }


def clear_cache() -> int:
    """Delete the cache's files (only those this module writes); return how many were deleted."""
    folder = cache_dir()
    n = 0
    for p in _entry_files(folder) if folder.is_dir() else []:
        p.unlink(missing_ok=True)
        n += 1
    return n


def _enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def compile_model(model, *, var_names=None):
    """Compile a PyMC model for nutpie, loading the wrappers' machine code from the cache if present.

    Parameters
    ----------
    model : pymc.Model
    var_names : list of str, optional
        Variables to store in the trace, as in ``nutpie.compile_pymc_model``.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        Samples exactly as the model of ``nutpie.compile_pymc_model(model, var_names=var_names)``.
    """
    if _enabled():
        try:
            return _compile_cached(model, var_names)
        except Exception as exc:  # noqa: BLE001 - any failure: compile normally, never crash
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            log.warning(f"forecast: compile cache not used ({type(exc).__name__}: {first}); compiling normally")
    return stock_compile(model, var_names=var_names)


def stock_compile(model, *, var_names=None):
    """``nutpie.compile_pymc_model`` (the path without the cache)."""
    import nutpie

    return nutpie.compile_pymc_model(model, var_names=var_names)


# -- building the model and the wrappers ------------------------------------------------------------
def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("nutpie", "numba", "llvmlite", "pytensor", "pymc", "numpy")}


_SETTINGS = (
    "floatX", "cast_policy", "mode", "linker", "optimizer", "optimizer_excluding", "optimizer_including",
    "optimizer_requiring", "optdb__position_cutoff", "optdb__max_use_ratio", "tensor__cmp_sloppy",
    "check_input", "numba__fastmath", "scan__allow_output_prealloc",
)
"""PyTensor settings that can change how a graph is rewritten or what numba makes of it (part of the key)."""


def _rewrites() -> list[str]:
    """The names of every rewrite PyTensor has registered (packages may add some when imported)."""
    from pytensor.compile.mode import optdb
    from pytensor.graph.rewriting.db import RewriteDatabase

    names, todo, seen = set(), [optdb], set()
    while todo:
        db = todo.pop()
        if id(db) not in seen:
            seen.add(id(db))
            names.update(f"{type(db).__name__}:{name}" for name in db._names)
            todo += [r for found in db.__db__.values() for r in found if isinstance(r, RewriteDatabase)]
    return sorted(names)


def _graph_mode():
    """A PyTensor mode that builds a function's graph and rewrites nothing: cheap, and enough to key it."""
    from pytensor.compile.mode import Mode
    from pytensor.graph.rewriting.db import RewriteDatabaseQuery
    from pytensor.link.basic import PerformLinker

    return Mode(linker=PerformLinker(), optimizer=RewriteDatabaseQuery(include=[]))


def _functions(model, var_names, mode):
    """nutpie's PyTensor functions of ``model`` (log density with gradient, expand) in ``mode``."""
    from nutpie import compile_pymc as ncp
    from pymc.initial_point import make_initial_point_fn

    point_fn = make_initial_point_fn(
        model=model, overrides=None, default_strategy="support_point",
        jitter_rvs=set(model.free_RVs), return_transformed=True,
    )
    return ncp._make_functions(
        model, mode=mode, compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=ncp._wrap_with_lock(point_fn), var_names=var_names,
    )


def prepare(model, *, var_names=None) -> dict:
    """Everything :func:`compile_model` needs besides the machine code: graphs, data, sources, key.

    The log density and expand functions are built without rewriting or compiling their graphs
    (:func:`_graph_mode`): the key is made of those graphs as the model states them, so a cache hit
    never pays for PyTensor's rewrites and numba code generation.

    Raises if nutpie's internals are not as this module expects, or a graph cannot be keyed.
    """
    import numpy as np
    import pytensor
    from nutpie import compile_pymc as ncp

    n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info, reparam = _functions(model, var_names, _graph_mode())
    n_dim, n_expanded = int(n_dim), int(n_expanded)
    shared_data, shared_var_keys = {}, {}
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var not in shared_var_keys:
            key = f"s{len(shared_var_keys)}"
            shared_data[key] = np.array(var.get_value(), order="C", copy=True)
            shared_data[key].flags.writeable = False
            shared_var_keys[var] = key
    user_data = ncp.make_user_data(shared_var_keys, shared_data)
    logp_keys = [shared_var_keys[v] for v in logp_pt.get_shared()]
    expand_keys = [shared_var_keys[v] for v in expand_pt.get_shared()]
    offsets = word_offsets(user_data, list(shared_var_keys.values()))
    sources = wrapper_sources(n_dim, n_expanded, user_data.dtype.itemsize // 8, logp_keys, expand_keys, offsets, shared_data)
    key = hashlib.sha256(
        json.dumps(
            {
                "format": FORMAT,
                "sources": sources,
                "module": MODULE,
                "graphs": [graph_key(logp_pt.maker.fgraph), graph_key(expand_pt.maker.fgraph)],
                "check_bounds": bool(model.check_bounds),
                "shared": [(shared_data[k].dtype.str, shared_data[k].ndim) for k in shared_var_keys.values()],
                "logp_shared": logp_keys,
                "expand_shared": expand_keys,
                "dims": [n_dim, n_expanded],
                "signatures": [LOGP_SIG, EXPAND_SIG],
                "pytensor_settings": {name: str(getattr(pytensor.config, name)) for name in _SETTINGS},
                "rewrites": _rewrites(),
                "python": sys.version,
                "versions": _versions(),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    dims, coords = ncp._prepare_dims_and_coords(model, shape_info, reparam)
    return {
        "key": key,
        "sources": sources,
        "model": model,
        "var_names": var_names,
        "fields": {
            "_n_dim": n_dim,
            "dims": dims,
            "_coords": coords,
            "_shapes": {name: tuple(shape) for name, _, shape in zip(*shape_info)},
            "initial_point_func": initial_point_fn,
            "shared_data": shared_data,
            "shared_var_keys": shared_var_keys,
            "user_data": user_data,
            "n_expanded": n_expanded,
            "shape_info": shape_info,
            "logp_func": logp_pt,
            "expand_func": expand_pt,
            "reparameterized_names": reparam,
        },
    }


def _compiled_functions(parts) -> dict:
    """The log density and expand functions rewritten and compiled by PyTensor (numba), for a cache miss.

    Raises unless they read the same shared inputs, in the same order, as the graphs the key was made of.
    """
    _, _, logp_pt, expand_pt, *_ = _functions(parts["model"], parts["var_names"], "NUMBA")
    keys = parts["fields"]["shared_var_keys"]
    for new, old in ((logp_pt, parts["fields"]["logp_func"]), (expand_pt, parts["fields"]["expand_func"])):
        if [keys.get(v) for v in new.get_shared()] != [keys[v] for v in old.get_shared()]:
            raise RuntimeError("the compiled functions read other shared inputs than their graphs")
    return {"logp_func": logp_pt, "expand_func": expand_pt}


def _compile_cached(model, var_names):
    from nutpie.compile_pymc import CompiledPyMCModel

    parts = prepare(model, var_names=var_names)
    fields = parts["fields"]
    loaded = _load(parts["key"], parts["sources"])
    if loaded is None:
        fields = {**fields, **_compiled_functions(parts)}
        loaded = _build(parts["key"], parts["sources"], fields["logp_func"].vm.jit_fn, fields["expand_func"].vm.jit_fn)
    logp_c, expand_c = loaded
    return CompiledPyMCModel(compiled_logp_func=logp_c, compiled_expand_func=expand_c, **fields)


# -- the files ---------------------------------------------------------------------------------------
_KEYS: dict = {}
"""Generated wrapper function -> cache key, read by the numba cache locator."""


@functools.cache
def _register_locator():
    from numba.core.caching import CacheImpl, _CacheLocator

    class ForecastLocator(_CacheLocator):
        """Send numba's cache of the generated wrappers to :func:`cache_dir`, named by their key."""

        def __init__(self, py_func, py_file, key):
            self._py_func, self._py_file, self._key = py_func, py_file, key

        def get_cache_path(self):
            return str(cache_dir())

        def get_source_stamp(self):
            return FORMAT

        def get_disambiguator(self):
            return self._key

        @classmethod
        def from_function(cls, py_func, py_file):
            key = _KEYS.get(py_func)
            return None if key is None else cls(py_func, py_file, key)

    CacheImpl._locator_classes.insert(0, ForecastLocator)


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}.{os.urandom(4).hex()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _entry(folder: Path, key: str) -> tuple[Path, list[Path]]:
    files = sorted(p for p in folder.glob(f"{PREFIX}*-{key}.*") if ".tmp." not in p.name)
    return folder / f"{key}.ok", files


def _verified(folder: Path, key: str) -> bool:
    """Whether the entry's files are exactly those its manifest lists, with the same hashes."""
    manifest, files = _entry(folder, key)
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))
        return bool(files) and listed == {p.name: _hash(p) for p in files}
    except (OSError, ValueError):
        return False


def _cfuncs(key: str, sources: tuple[str, str], logp_inner, expand_inner) -> tuple:
    """numba's C callbacks of the two wrapper sources: loaded from the cache entry ``key``, else compiled (and saved)."""
    import numba
    import numpy as np
    from pytensor.link.numba.cache import compile_numba_function_src

    _register_locator()
    env = {
        "__name__": MODULE,
        "np": np,
        "carray": numba.carray,
        "address_as_void_pointer": address_as_void_pointer(),
        "logp_inner": logp_inner,
        "expand_inner": expand_inner,
    }
    out = []
    for src, name, sig in zip(sources, ("forecast_logp", "forecast_expand"), (LOGP_SIG, EXPAND_SIG)):
        fn = compile_numba_function_src(src, name, global_env=env)
        _KEYS[fn] = key
        try:
            out.append(numba.cfunc(sig, cache=True)(fn))
        finally:
            del _KEYS[fn]
    return tuple(out)


class _NotCompiled:
    """Stands in for PyTensor's compiled functions when the wrappers are loaded: numba cannot compile a call to it."""


def _load(key: str, sources: tuple[str, str]):
    """The two C callbacks from a verified cache entry, or None (no entry, a damaged one, or numba could not load it).

    The wrappers are loaded without PyTensor's compiled functions: their machine code is in the
    entry. In their place stands an object numba cannot compile a call to, so if numba does not
    load the entry it fails rather than compile something else.
    """
    import warnings

    folder = cache_dir()
    manifest, files = _entry(folder, key)
    if not files and not manifest.exists():
        return None
    if _verified(folder, key):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = _cfuncs(key, sources, _NotCompiled(), _NotCompiled())
            if all(f.cache_hits == 1 for f in loaded):
                return loaded
        except Exception:  # noqa: BLE001 - numba could not load the entry: it is compiled again below
            pass
        log.warning("forecast: a compile cache entry could not be loaded; compiling it again")
    else:
        log.warning("forecast: a compile cache entry did not match its manifest; compiling it again")
    for p in [manifest, *files]:
        p.unlink(missing_ok=True)
    return None


def _build(key: str, sources: tuple[str, str], logp_inner, expand_inner):
    """Compile the two C callbacks around PyTensor's compiled functions, and save them as the cache entry ``key``."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    manifest, _ = _entry(folder, key)
    out = _cfuncs(key, sources, logp_inner, expand_inner)
    _, files = _entry(folder, key)
    if not any(p.suffix == ".nbc" for p in files):
        log.warning("forecast: numba did not cache the compiled sampler; the next process compiles it again")
        return out
    _atomic_write(manifest, json.dumps({p.name: _hash(p) for p in files}, sort_keys=True))
    return out
