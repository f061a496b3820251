"""Case files to a validated :class:`~forecast.case.load.Case`, and edits saved back without loss.

- :mod:`~forecast.case.schema`: pydantic models of ``case.toml``, ``readings.csv`` and ``sources.csv``;
- :mod:`~forecast.case.checks`: the validation toolkit (rows, ids, levels, grades, weights, quotes,
  dates, TOML lines), each rule written once;
- :mod:`~forecast.case.quotes`: matching a quote in its source (pieces, the closest passage);
- :mod:`~forecast.case.evidence`: reference cases, codings and expert judgments;
- :mod:`~forecast.case.scenarios`: ``scenarios.toml`` and its changes;
- :mod:`~forecast.case.load`: :func:`load_case`, every file of the folder in one pass, every problem collected;
- :mod:`~forecast.case.edit`: weight, spread and level edits written back with tomlkit.
"""
