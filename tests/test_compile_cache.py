"""The sampler's compile cache (forecast.model.compile): same draws as stock nutpie, no case data
on disk, a key that follows the model's structure, safe fallbacks, and nutpie's internals it uses."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import BELARUS, ROOT

SETTINGS = {"draws": 150, "tune": 150, "chains": 2, "seed": 11}


# -- nutpie internals: fail loudly when they move ---------------------------------------------------
def test_nutpie_internals_are_as_the_cache_expects():
    from importlib.metadata import version

    import nutpie.compile_pymc as ncp

    major, minor = (int(x) for x in version("nutpie").split(".")[:2])
    assert (major, minor) == (0, 16), "forecast.model.compile was written against nutpie 0.16: re-check its internals"
    params = inspect.signature(ncp._make_functions).parameters
    assert {"model", "mode", "compute_grad", "join_expanded", "pymc_initial_point_fn", "var_names"} <= set(params)
    assert list(inspect.signature(ncp.make_user_data).parameters) == ["shared_var_keys", "shared_data"]
    assert list(inspect.signature(ncp._prepare_dims_and_coords).parameters) == ["model", "shape_info", "reparameterized_names"]
    assert callable(ncp._wrap_with_lock)
    fields = {f.name for f in dataclasses.fields(ncp.CompiledPyMCModel)}
    assert {
        "compiled_logp_func", "compiled_expand_func", "initial_point_func", "shared_data", "shared_var_keys",
        "user_data", "n_expanded", "shape_info", "logp_func", "expand_func", "_n_dim", "_shapes", "_coords",
        "dims", "reparameterized_names",
    } <= fields
    # nutpie's own wrappers still take these C signatures (ours must match what its sampler calls)
    src = inspect.getsource(ncp._make_c_logp_func) + inspect.getsource(ncp._make_c_expand_func)
    assert src.count("numba.types.CPointer(numba.types.double)") == 5 and src.count("numba.types.voidptr") == 2
    # with_data rewrites user_data through update_user_data, which the wrappers read by pointer
    assert "update_user_data" in inspect.getsource(ncp.CompiledPyMCModel.with_data)


def test_user_data_words_match_a_hand_worked_layout():
    import nutpie.compile_pymc as ncp
    import pytensor

    from forecast.model.wrappers import word_offsets

    a, b, c = pytensor.shared(np.zeros(3)), pytensor.shared(np.zeros((2, 4))), pytensor.shared(np.float64(1.0))
    keys = {a: "s0", b: "s1", c: "s2"}
    data = {"s0": np.arange(3.0), "s1": np.ones((2, 4)), "s2": np.array(2.0)}
    user = ncp.make_user_data(keys, data)
    # data pointers (3 words), sizes (3 words), then shapes: 1 word, 2 words, 0 words
    assert word_offsets(user, ["s0", "s1", "s2"]) == {"s0": (0, 3, [6]), "s1": (1, 4, [7, 8]), "s2": (2, 5, [])}
    words = user.view(np.uint64) if user.ndim else np.frombuffer(user.tobytes(), dtype=np.uint64)
    assert list(words) == [data["s0"].ctypes.data, data["s1"].ctypes.data, data["s2"].ctypes.data, 3, 8, 1, 3, 2, 4]


# -- the folder --------------------------------------------------------------------------------------
def test_cache_dir_moves_with_the_environment_and_clear_deletes_only_its_files(tmp_path, monkeypatch):
    from forecast.model import compile as cc

    monkeypatch.setenv(cc.CACHE_ENV, str(tmp_path))
    assert cc.cache_dir() == tmp_path
    (tmp_path / "string.forecast_logp-abc.py312.nbi").write_bytes(b"x" * 10)
    (tmp_path / "string.forecast_logp-abc.py312.1.nbc").write_bytes(b"y" * 30)
    (tmp_path / f"{'ab' * 32}.ok").write_text("{}")
    (tmp_path / "notes.txt").write_text("the user's own file")
    (tmp_path / "looks.ok").write_text("the user's own file too")
    info = cc.cache_info()
    assert (info["entries"], info["files"], info["bytes"], info["path"]) == (1, 3, 42, str(tmp_path))
    assert cc.clear_cache() == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["looks.ok", "notes.txt"]
    monkeypatch.delenv(cc.CACHE_ENV)
    assert "forecast" in str(cc.cache_dir())


def test_cache_off_switch(monkeypatch):
    from forecast.model import compile as cc

    monkeypatch.setenv(cc.SWITCH_ENV, "off")
    assert cc.cache_info()["enabled"] is False
    calls = []
    monkeypatch.setattr(cc, "stock_compile", lambda model, var_names=None: calls.append(model) or "stock")
    monkeypatch.setattr(cc, "_compile_cached", lambda *a: pytest.fail("the cache was used although it is off"))
    assert cc.compile_model("model") == "stock" and calls == ["model"]


def test_cli_cache_commands(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from forecast.cli import app

    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path))
    (tmp_path / f"{'cd' * 32}.ok").write_text("{}")
    res = CliRunner().invoke(app, ["cache", "info", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["entries"] == 1
    res = CliRunner().invoke(app, ["cache", "clear"])
    assert res.exit_code == 0 and "deleted 1 file" in res.output
    assert list(tmp_path.iterdir()) == []


def test_cli_warmup_compiles_each_case_without_sampling(second_case, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import forecast.model.fit
    from forecast.cli import app

    seen = []
    monkeypatch.setattr(forecast.model.fit, "compile_case", lambda case: seen.append(case.id))
    monkeypatch.setattr(forecast.model.fit, "draw", lambda *a, **k: pytest.fail("warmup sampled"))
    res = CliRunner().invoke(app, ["warmup", str(second_case), str(BELARUS)])
    assert res.exit_code == 0, res.output
    assert seen == ["harbour_strike", "belarus"] and res.output.count("compiled ") == 2
    seen.clear()
    monkeypatch.chdir(second_case.parents[1])  # ./data holds the second case only
    res = CliRunner().invoke(app, ["warmup"])
    assert res.exit_code == 0 and seen == ["harbour_strike"]
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    res = CliRunner().invoke(app, ["warmup"])
    assert res.exit_code == 2 and "no case folders" in res.output


# -- compiling: slow -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cache_env(tmp_path_factory):
    """A fresh cache folder for this module's compiles."""
    folder = tmp_path_factory.mktemp("sampler-cache")
    old = os.environ.get("FORECAST_CACHE_DIR")
    os.environ["FORECAST_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        del os.environ["FORECAST_CACHE_DIR"]
    else:
        os.environ["FORECAST_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def models(cache_env, belarus):
    """Stock, first cached (a miss: compiles and writes) and second cached (a hit) compiles of Belarus."""
    import nutpie

    from forecast.model.compile import compile_model
    from forecast.model.model import build_model

    stock = nutpie.compile_pymc_model(build_model(belarus))
    first = compile_model(build_model(belarus))
    second = compile_model(build_model(belarus))
    return {"stock": stock, "first": first, "second": second}


def _variants(case):
    """The case's model inputs as it is, with a weight edited, and with its last three readings dropped
    (shorter arrays), made through the case, so that nothing here depends on the model's inputs."""
    from forecast.case.edit import Edit, apply_edits
    from forecast.model.model import model_inputs

    base = model_inputs(case)
    edited = model_inputs(apply_edits(case, [Edit(case.indicators[0].id, "weight", 3.0)]))
    shorter = model_inputs(dataclasses.replace(case, readings=case.readings[:-3]))
    assert any(not np.array_equal(edited[k], base[k]) for k in base)
    assert any(np.shape(shorter[k]) != np.shape(base[k]) for k in base)
    return {"base": base, "edited": edited, "shorter": shorter}


@pytest.mark.slow
def test_draws_are_bit_identical_to_stock_nutpie(models, belarus):
    from forecast.model.fit import FitSettings, draw

    settings = FitSettings(**SETTINGS)
    for label, inputs in _variants(belarus).items():
        ref = draw(models["stock"], inputs, settings)["posterior"]
        for which in ("first", "second"):
            got = draw(models[which], inputs, settings)["posterior"]
            assert sorted(got.data_vars) == sorted(ref.data_vars) and "p" in ref.data_vars
            for v in ref.data_vars:
                assert np.array_equal(np.asarray(got[v]), np.asarray(ref[v])), f"{v} differs ({label}, {which})"
    assert models["second"].compiled_logp_func.cache_hits == 1
    assert models["second"].compiled_expand_func.cache_hits == 1
    assert models["first"].compiled_logp_func.cache_hits == 0
    # a hit loads the machine code without PyTensor rewriting and compiling the functions again
    assert type(models["second"].logp_func.maker.linker).__name__ == "PerformLinker"
    assert type(models["first"].logp_func.maker.linker).__name__ == "NumbaLinker"


@pytest.mark.slow
def test_no_case_data_in_the_cache(models, belarus, cache_env):
    from forecast.model.model import model_inputs

    blobs = [p.read_bytes() for p in cache_env.iterdir() if p.is_file()]
    assert any(p.suffix == ".nbc" for p in cache_env.iterdir())
    checked = 0
    for name, arr in model_inputs(belarus).items():
        arr = np.ascontiguousarray(arr)
        if arr.size < 3 or np.unique(arr).size < 2:
            continue  # a few bytes, or one repeated value, could occur anywhere by chance
        for dtype in {arr.dtype, np.dtype(float)}:
            needle = arr.astype(dtype).tobytes()
            assert not any(needle in b for b in blobs), f"{name} found in the compile cache"
        checked += 1
    assert checked >= 6


def test_key_follows_the_structure_not_the_data(belarus, second_case, monkeypatch):
    import pytensor

    from forecast import load_case
    from forecast.case.edit import Edit, apply_edits
    from forecast.model import compile as cc
    from forecast.model.model import build_model

    key = cc.prepare(build_model(belarus))["key"]
    first = belarus.indicators[0].id
    edited = apply_edits(belarus, [Edit(first, "weight", 3.0)])
    assert cc.prepare(build_model(edited))["key"] == key
    assert cc.prepare(build_model(load_case(second_case)))["key"] != key
    assert cc.prepare(build_model(belarus), var_names=["p"])["key"] != key
    with pytensor.config.change_flags(numba__fastmath=False):
        assert cc.prepare(build_model(belarus))["key"] != key
    real_rewrites = cc._rewrites()
    monkeypatch.setattr(cc, "_rewrites", lambda: [*real_rewrites, "EquilibriumDB:a_plugin_rewrite"])
    assert cc.prepare(build_model(belarus))["key"] != key
    monkeypatch.undo()
    real = cc._versions()
    monkeypatch.setattr(cc, "_versions", lambda: {**real, "numba": "0.0.1"})
    assert cc.prepare(build_model(belarus))["key"] != key


def _graph(build, x_shape=(None,)):
    """The FunctionGraph of ``build(x, y)`` over two fresh inputs (the key never sees their names)."""
    import pytensor.tensor as pt
    from pytensor.graph.fg import FunctionGraph

    x, y = pt.tensor(f"x{np.random.randint(1000)}", shape=x_shape, dtype="float64"), pt.dvector("y")
    return FunctionGraph([x, y], [build(x, y)], clone=True)


def test_graph_key_is_the_structure_names_aside():
    import pytensor.tensor as pt

    from forecast.model.wrappers import graph_key

    base = graph_key(_graph(lambda x, y: pt.exp(x - y).sum() * 2.0))
    assert graph_key(_graph(lambda x, y: pt.exp(x - y).sum() * 2.0)) == base
    other = {
        "constant": lambda x, y: pt.exp(x - y).sum() * 3.0,
        "constant dtype": lambda x, y: pt.exp(x - y).sum() * pt.constant(2.0, dtype="float64"),
        "op": lambda x, y: pt.log(x - y).sum() * 2.0,
        "wiring": lambda x, y: pt.exp(y - x).sum() * 2.0,
        "reduction": lambda x, y: pt.exp(x - y).max() * 2.0,
    }
    keys = {name: graph_key(_graph(build)) for name, build in other.items()}
    keys["static shape"] = graph_key(_graph(lambda x, y: pt.exp(x - y).sum() * 2.0, x_shape=(3,)))
    assert base not in keys.values() and len(set(keys.values())) == len(keys)


def test_graph_key_refuses_an_op_without_properties():
    import pytensor.tensor as pt
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    from forecast.model.wrappers import graph_key

    class Opaque(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, outputs):
            outputs[0][0] = inputs[0] * 2

    with pytest.raises(TypeError, match="without properties"):
        graph_key(_graph(lambda x, y: Opaque()(x) + y))


@pytest.mark.slow
def test_a_damaged_entry_is_compiled_again_with_a_notice(models, belarus, cache_env, caplog):
    from forecast.model.compile import compile_model
    from forecast.model.fit import FitSettings, draw
    from forecast.model.model import build_model, model_inputs

    data = next(p for p in cache_env.glob("*.nbc") if "forecast_logp" in p.name)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = b"\x00" * 64
    data.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="forecast"):
        again = compile_model(build_model(belarus))
    assert any("did not match its manifest" in r.getMessage() for r in caplog.records)
    assert again.compiled_logp_func.cache_hits == 0
    settings = FitSettings(**SETTINGS)
    inputs = model_inputs(belarus)
    assert np.array_equal(
        np.asarray(draw(again, inputs, settings)["posterior"]["p"]), np.asarray(draw(models["stock"], inputs, settings)["posterior"]["p"])
    )


@pytest.mark.slow
def test_an_unreadable_entry_is_compiled_again_with_one_line(models, belarus, cache_env, caplog):
    """Damage the manifest's check cannot see (the manifest rewritten to match): numba fails to read it."""
    import json

    from forecast.model import compile as cc
    from forecast.model.fit import FitSettings, draw
    from forecast.model.model import build_model, model_inputs

    key = cc.prepare(build_model(belarus))["key"]
    manifest, files = cc._entry(cache_env, key)
    index = next(p for p in files if p.suffix == ".nbi" and "forecast_logp" in p.name)
    index.write_bytes(b"not a numba index")
    manifest.write_text(json.dumps({p.name: cc._hash(p) for p in files}))
    with caplog.at_level(logging.WARNING, logger="forecast"):
        again = cc.compile_model(build_model(belarus))
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 1 and "could not be loaded" in notes[0] and "\n" not in notes[0]
    assert again.compiled_logp_func.cache_hits == 0 and cc._verified(cache_env, key)
    settings = FitSettings(**SETTINGS)
    inputs = model_inputs(belarus)
    assert np.array_equal(
        np.asarray(draw(again, inputs, settings)["posterior"]["p"]), np.asarray(draw(models["stock"], inputs, settings)["posterior"]["p"])
    )


def test_a_failure_outside_the_entry_falls_back_to_stock_with_one_line(belarus, monkeypatch, caplog):
    from forecast.model import compile as cc
    from forecast.model.model import build_model

    def broken(*args, **kwargs):
        raise OSError("disk full\nsecond line")

    monkeypatch.setattr(cc, "_load", broken)
    monkeypatch.setattr(cc, "stock_compile", lambda model, var_names=None: "stock compile")
    with caplog.at_level(logging.WARNING, logger="forecast"):
        assert cc.compile_model(build_model(belarus)) == "stock compile"
    notes = [r.getMessage() for r in caplog.records]
    assert notes == ["forecast: compile cache not used (OSError: disk full); compiling normally"]


@pytest.mark.slow
def test_concurrent_first_compiles_share_one_entry(tmp_path):
    """Two processes compile into one empty cache at once; a third loads the entry without compiling."""
    code = (
        "import forecast as fc\n"
        "from forecast.model.fit import compile_case\n"
        f"c = compile_case(fc.load_case({str(BELARUS)!r}))\n"
        "print(c.compiled_logp_func.cache_hits, c.compiled_expand_func.cache_hits)\n"
    )
    env = {**os.environ, "FORECAST_CACHE_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err
        assert "compiling normally" not in err
    third = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert third.stdout.split() == ["1", "1"], third.stderr
    assert not list(Path(tmp_path).glob("*.tmp.*"))


# -- the editor's re-sampling fallback: warm-started, only the draws it needs ---------------------------
@pytest.mark.slow
def test_resample_reads_nutpies_raw_trace_as_its_datatree_does(compiled, belarus):
    import forecast.model.fit as fit
    from forecast.model.model import model_inputs

    settings = fit.FitSettings(**SETTINGS)
    fit._RECENT.clear()  # nothing in hand: a cold sample with the full settings
    cold = fit.resample(compiled, model_inputs(belarus), settings)
    fit._RECENT.clear()
    tree = fit.draw(compiled, model_inputs(belarus), settings)
    assert set(tree["posterior"].data_vars) <= set(cold.posterior) and "p" in cold.posterior
    for v in tree["posterior"].data_vars:
        assert np.array_equal(cold.posterior[v], np.asarray(tree["posterior"][v]))
    assert np.array_equal(cold.step_size, np.asarray(tree["sample_stats"]["step_size"])[:, -1])
    assert np.array_equal(cold.last_point, np.asarray(tree["sample_stats"]["unconstrained_draw"])[:, -1, :])
    assert fit.flat_draws(cold, ["weight"])["weight"].shape == (2 * SETTINGS["draws"], len(belarus.indicators))


@pytest.mark.slow
def test_warm_resample_draws_what_the_ess_needs_and_agrees_with_a_long_fit(compiled, belarus):
    import arviz as az

    import forecast.model.fit as fit
    from forecast.model.model import model_inputs

    settings = fit.FitSettings(draws=1000, tune=300, chains=2, seed=5)
    hand = fit.draw(compiled, model_inputs(belarus), settings)
    ess = az.ess(hand["sample_stats"].to_dataset()[["unconstrained_draw"]])["unconstrained_draw"].values.min()
    per_draw = ess / 2000
    inputs = model_inputs(dataclasses.replace(belarus, readings=belarus.readings[:-4]))  # new data, same model
    warm = fit.resample(compiled, inputs, settings, warm_from=hand, min_ess=150)
    expected = max(100, int(np.ceil(2 * 150 / (2 * per_draw))))
    assert warm.posterior["p"].shape == (2, expected)
    # a later call warms from this one by default, and keeps its ESS per draw
    again = fit.resample(compiled, model_inputs(belarus), settings, min_ess=150)
    assert again.ess_per_draw == warm.ess_per_draw and again.posterior["p"].shape == (2, expected)
    long = fit.draw(compiled, inputs, fit.FitSettings(draws=3000, tune=1000, chains=2, seed=6))
    p_long = np.asarray(long["posterior"]["p"]).ravel()
    p_warm = warm.posterior["p"].ravel()
    se = p_long.std() / np.sqrt(150)  # the warm draws' target ESS; the long fit's own error is smaller
    assert abs(p_warm.mean() - p_long.mean()) < 4 * se
