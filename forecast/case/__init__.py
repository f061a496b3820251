"""Case files to a validated :class:`~forecast.case.load.Case`, and edits saved back without loss.

- :mod:`~forecast.case.schema`: pydantic models of ``case.toml``, ``readings.csv`` and ``sources.csv``;
- :mod:`~forecast.case.checks`: the validation toolkit (rows, ids, quotes, levels, TOML lines);
- :mod:`~forecast.case.evidence`: reference cases, codings and expert judgments;
- :mod:`~forecast.case.scenarios`: ``scenarios.toml`` and its changes;
- :mod:`~forecast.case.load`: :func:`load_case`, every file of the folder, every problem collected;
- :mod:`~forecast.case.edit`: weight, spread and level edits written back with tomlkit.
"""
