"""The briefing: one self-contained HTML file of a fitted case, and the "what changed" page.

:func:`write_report` writes ``report.html`` (with ``forecast.nc`` beside it, so a later report can
say what changed since) into a new run folder; :func:`render_report` returns the HTML text.
:func:`write_diff` and :func:`render_diff` do the same for a :class:`forecast.analysis.diff.Diff`.
Both take results already computed (a :class:`~forecast.model.posterior.Forecast`, the
:class:`~forecast.analysis.whatif.WhatIf` analyses, a diff): they fit nothing.

The pages load nothing from outside the file: styles are inline, charts are inline SVG, and the
only URLs are the sources' links, which a reader follows by choice.
"""

from forecast.output.report.html import fill_report_folder, render_diff, render_report, write_diff, write_report

__all__ = ["fill_report_folder", "render_diff", "render_report", "write_diff", "write_report"]
