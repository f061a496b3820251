"""The commands for the sampler's compile cache: ``cache info``, ``cache clear`` and ``warmup``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.base import Json, app, console, emit_json, load, say
from forecast.cli.fitting import COMPILING
from forecast.errors import ForecastError

cache_app = typer.Typer(help="The sampler's compile cache: where it is, what it holds, emptying it.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(json_out: Json = False) -> None:
    """Show where the compile cache is (FORECAST_CACHE_DIR moves it) and what it holds."""
    from forecast.model.compile import CACHE_ENV, SWITCH_ENV, cache_info as info

    found = info()
    con = console(json_out)
    state = "on" if found["enabled"] else f"off ({SWITCH_ENV}=off)"
    say(con, f"compile cache: {found['path']} (move it with {CACHE_ENV}); {state}")
    say(con, f"{found['entries']} compiled model(s), {found['files']} files, {found['bytes'] / 1e6:.1f} MB")
    if json_out:
        emit_json(found)


@cache_app.command("clear")
def cache_clear(json_out: Json = False) -> None:
    """Delete the compiled models in the compile cache (the next fit of each case compiles again)."""
    from forecast.model.compile import cache_dir, clear_cache

    n = clear_cache()
    say(console(json_out), f"deleted {n} file(s) from {cache_dir()}")
    if json_out:
        emit_json({"path": str(cache_dir()), "deleted": n})


@app.command()
def warmup(
    case_dirs: Annotated[list[Path] | None, typer.Argument(help="Case folders (default: every folder under ./data with a case.toml).", show_default=False)] = None,
    json_out: Json = False,
) -> None:
    """Compile each case's model into the compile cache without sampling, e.g. when building an image."""
    from forecast.model.compile import cache_dir
    from forecast.model.fit import compile_case

    dirs = case_dirs or sorted(p.parent for p in Path("data").glob("*/case.toml"))
    if not dirs:
        raise ForecastError("no case folders given and none found under ./data; name one, e.g. forecast warmup data/my_case")
    con = console(json_out)
    done = []
    for case_dir in dirs:
        case = load(case_dir)
        start = time.perf_counter()
        with con.status(f"{COMPILING[:-3]}: {case_dir}..."):
            compile_case(case)
        seconds = time.perf_counter() - start
        done.append({"case_dir": str(case_dir), "seconds": round(seconds, 2)})
        say(con, f"[green]compiled[/] {case_dir} in {seconds:.1f} s")
    say(con, f"compile cache: {cache_dir()}")
    if json_out:
        emit_json({"cache_dir": str(cache_dir()), "compiled": done})
