"""The notebook editor: sliders for weights, spreads and levels, with the forecast updating live.

One call shows it::

    import forecast as fc
    ed = fc.editor.edit("../data/belarus")     # builds, displays and returns the Editor

The panel has, per indicator, sliders for the weight (in the indicator's ``weight_unit``), its
spread and the analyst's level judgment, with the weight's rationale and the level estimated from
the readings beside them; the probability with its interval and ICD 203 words; which computation
path gave the numbers (PSIS reweighting or re-sampling, :mod:`forecast.analysis.live`); the contributions
chart; and Save, Revert and Diff buttons.

The widgets are a thin layer: the maths is in :mod:`forecast.analysis.live`, the edits and the file writes
in :mod:`forecast.case.edit` (the same code as ``forecast edit``), and the HTML/SVG rendering in pure
functions here. Every button and slider callback is an ordinary method (:meth:`Editor.set`,
:meth:`Editor.save`, :meth:`Editor.revert`, :meth:`Editor.diff`), so it can be driven and tested
from Python without a browser.
"""

from __future__ import annotations

import contextlib
import html
import logging
import time
from pathlib import Path

from forecast.case.load import Case, load_case
from forecast.case.edit import Edit, EditError, apply_edits, changes, effects, preview, save
from forecast.analysis.live import Evaluation, LiveModel
from forecast.output.style import DOWN, UP

RECOMPUTING = f"<span style='color:{UP}'>⏳ recomputing…</span>"
STALE_DIFF = "<i style='color:#777'>The edits changed since this diff: press Diff again to see how each change moves P.</i>"
QUIET_LOGGERS = ("pymc", "pytensor", "nutpie", "arviz")
"""Libraries whose info lines (e.g. "Sampling: [base, level, weight]") would show in the notebook as stray red text."""


@contextlib.contextmanager
def quiet_logs():
    """Hold the sampling libraries' loggers at WARNING while the editor computes."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


# -- pure rendering --------------------------------------------------------------------------------
def probability_html(ev: Evaluation, saved: Evaluation | None = None) -> str:
    """The headline: P(event), its interval and ICD 203 words, and the change from the saved case."""
    e = ev.estimate
    delta = ""
    if saved is not None and abs(ev.mean - saved.mean) >= 0.0005:
        delta = f" <span style='color:#555'>(saved case: {saved.mean:.1%}, {100 * (ev.mean - saved.mean):+.1f} pp)</span>"
    warn = f"<div style='color:#b2182b;font-size:90%'>{html.escape(e.warning)}</div>" if e.warning else ""
    return (
        f"<div style='font-size:140%'><b>P = {ev.mean:.1%}</b> · <i>{html.escape(e.label)}</i>{delta}</div>"
        f"<div>{ev.hdi_prob:.0%} HDI {ev.hdi_low:.1%} – {ev.hdi_high:.1%}; median {ev.median:.1%}</div>{warn}"
    )


def path_html(ev: Evaluation) -> str:
    """Which computation path gave the numbers, and how long it took."""
    colour = {"psis": "#2166ac", "resample": "#b35806"}.get(ev.path, "#333")
    return (
        f"<span style='color:{colour}'>● {html.escape(ev.path_text())}</span>"
        f" <span style='color:#777'>· {1000 * ev.seconds:.0f} ms</span>"
    )


def contributions_svg(table, *, limit: float | None = None, width: int = 660, row: int = 22) -> str:
    """The contributions chart as inline SVG: one bar per indicator (mean, in log-odds) with its HDI.

    Bars to the right raise the chance, to the left lower it; rows are sorted by the size of the
    push, as in :func:`forecast.output.charts.posterior.plot_contributions`.
    """
    data = table.reindex(table["mean"].abs().sort_values(ascending=False).index)
    lim = limit or float(max(data["hdi_low"].abs().max(), data["hdi_high"].abs().max(), 0.1)) * 1.1
    label_w, pad = 230, 10
    plot_w = width - label_w - pad
    height = row * len(data) + 44  # room under the bars for the tick values and the axis title, descenders included

    def x(v: float) -> float:
        v = max(-lim, min(lim, float(v)))
        return label_w + plot_w * (v + lim) / (2 * lim)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='11'>"]
    for i, (ind, r) in enumerate(data.iterrows()):
        y = 4 + i * row
        colour = UP if r["mean"] > 0 else DOWN
        x0, x1 = sorted((x(0), x(r["mean"])))
        parts.append(f"<text x='{label_w - 6}' y='{y + 13}' text-anchor='end'>{html.escape(str(r['name']))}</text>")
        parts.append(f"<rect x='{x0:.1f}' y='{y + 3}' width='{max(x1 - x0, 0.5):.1f}' height='{row - 8}' fill='{colour}' opacity='0.8'><title>{html.escape(str(ind))}: {r['mean']:+.2f} log-odds ({r['hdi_low']:+.2f} to {r['hdi_high']:+.2f})</title></rect>")
        parts.append(f"<line x1='{x(r['hdi_low']):.1f}' x2='{x(r['hdi_high']):.1f}' y1='{y + row / 2 - 1}' y2='{y + row / 2 - 1}' stroke='black'/>")
    base = 4 + len(data) * row
    parts.append(f"<line x1='{x(0):.1f}' x2='{x(0):.1f}' y1='2' y2='{base}' stroke='black'/>")
    for t in (-lim / 1.1, -lim / 2.2, lim / 2.2, lim / 1.1):
        parts.append(f"<text x='{x(t):.1f}' y='{base + 14}' text-anchor='middle' fill='#555'>{t:+.1f}</text>")
    parts.append(f"<text x='{x(0):.1f}' y='{base + 26}' text-anchor='middle' fill='#555'>contribution to the log-odds (mean and {float(data['hdi_prob'].iloc[0]):.0%} HDI)</text>")
    parts.append("</svg>")
    return "".join(parts)


def effects_html(table) -> str:
    """The diff view: each changed value, saved against edited, and how far it alone moved P."""
    if table.empty:
        return "<i>No edits: the case is as saved.</i>"

    def fmt(v):
        return "(not set)" if v is None or v != v else f"{v:g}"

    rows = []
    for _, r in table.iterrows():
        label = "<b>all changes</b>" if r["indicator"] == "all changes" else f"{html.escape(r['indicator'])}.{html.escape(r['field'])}"
        vals = "" if r["indicator"] == "all changes" else f"{fmt(r['saved'])} → {fmt(r['edited'])}"
        rows.append(
            f"<tr><td>{label}</td><td>{vals}</td><td>{r['p_saved']:.1%} → {r['p']:.1%}</td>"
            f"<td style='text-align:right'>{100 * r['moved']:+.1f} pp</td></tr>"
        )
    head = "<tr><th>value</th><th>saved → edited</th><th>P(event)</th><th>moved</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


# -- the widget panel ------------------------------------------------------------------------------
class Editor:
    """A live editor for one case (see the module docstring).

    Parameters
    ----------
    case : Case or path
        The case, or its folder.
    live : LiveModel, optional
        A re-evaluation engine to reuse (one is built, compiling the model, if not given).
    compiled : nutpie compiled model, optional
        Passed to the :class:`~forecast.analysis.live.LiveModel` that is built.
    draws, tune, chains, seed : int
        Sampler settings of the engine's (re-)samples.

    Attributes
    ----------
    saved : Case
        The case as in the files.
    edits : dict
        ``(indicator, field) -> value`` for each slider that differs from the saved value.
    evaluation, saved_evaluation : Evaluation
        The latest forecast of the edited case, and that of the saved case.
    """

    def __init__(self, case: Case | str | Path, *, live: LiveModel | None = None, compiled=None,
                 draws: int = 1000, tune: int = 300, chains: int = 2, seed: int = 0):
        import ipywidgets as w

        self.saved = case if isinstance(case, Case) else load_case(case)
        with quiet_logs():
            self.live = live or LiveModel(self.saved, compiled=compiled, draws=draws, tune=tune, chains=chains, seed=seed)
            self.saved_evaluation = self.live.evaluate(self.saved)
        self.evaluation = self.saved_evaluation
        self.edits: dict[tuple[str, str], float] = {}
        self._quiet = False
        self._limit: float | None = None
        self._diff_shown = False
        self.last_save = None

        self.title = w.HTML(f"<h3 style='margin:0'>{html.escape(self.saved.spec.case.title)}</h3><i>{html.escape(self.saved.spec.question.text)}</i>")
        self.headline = w.HTML()
        self.status = w.HTML()
        self.chart = w.HTML()
        self.message = w.HTML()
        self.diff_view = w.HTML()
        self.save_button = w.Button(description="Save", icon="save", tooltip="Write the edited values into case.toml")
        self.revert_button = w.Button(description="Revert", icon="undo", tooltip="Go back to the values in case.toml")
        self.diff_button = w.Button(description="Diff", icon="list", tooltip="Edited against saved, and how far each change moved P")
        self.save_button.on_click(lambda _: self.save())
        self.revert_button.on_click(lambda _: self.revert())
        self.diff_button.on_click(lambda _: self.show_diff())

        self.sliders: dict[tuple[str, str], w.FloatSlider] = {}
        self.readouts: dict[str, w.HTML] = {}
        rows = []
        style = {"description_width": "105px"}
        layout = w.Layout(width="360px")
        for ind in self.saved.indicators:
            unit = "×" if ind.weight_unit == "odds_multiplier" else "log-odds"
            lo = 1.05 if ind.weight_unit == "odds_multiplier" else 0.05
            specs = [
                ("weight", f"weight {unit}", lo, max(4.0, 2 * ind.weight), 0.05, ind.weight),
                ("weight_spread", "spread ÷×", 1.1, max(4.0, 1.5 * ind.weight_spread), 0.1, ind.weight_spread),
                ("level", "level", 0.0, 1.0, 0.01, self._level_start(ind)),
            ]
            controls = []
            for field, label, mn, mx, step, value in specs:
                s = w.FloatSlider(value=value, min=mn, max=mx, step=step, description=label, style=style,
                                  layout=layout, continuous_update=False, readout_format=".2f")
                s.observe(lambda change, i=ind.id, f=field: self._on_slider(i, f, change["new"]), names="value")
                self.sliders[(ind.id, field)] = s
                controls.append(s)
            self.readouts[ind.id] = w.HTML(layout=w.Layout(width="420px"))
            arrow = "▲ raises" if ind.direction == "raises" else "▼ lowers"
            head = w.HTML(f"<b>{html.escape(ind.name)}</b> <span style='color:#777'>({ind.id}, {arrow} the chance)</span>")
            rows.append(w.VBox([head, w.HBox([w.VBox(controls), self.readouts[ind.id]])],
                               layout=w.Layout(border_bottom="1px solid #ddd", padding="4px 0")))
        self.controls = w.VBox(rows)
        buttons = w.HBox([self.save_button, self.revert_button, self.diff_button])
        results = w.VBox([self.headline, self.status, self.chart, buttons, self.message, self.diff_view])
        self.widget = w.VBox([self.title, results, w.HTML("<h4>Indicators</h4>"), self.controls])

        self._render()

    # -- state -------------------------------------------------------------------------------
    def _level_start(self, ind) -> float:
        """Where the level slider starts: the stated level, or else the level the readings imply.

        That is the posterior mean of the level in the saved case, the number shown beside the slider.
        """
        if ind.level is not None:
            return ind.level
        return round(float(self.saved_evaluation.contributions.loc[ind.id, "level_mean"]), 2)

    def edit_list(self) -> list[Edit]:
        return [Edit(i, f, v) for (i, f), v in self.edits.items()]

    def edited_case(self) -> Case:
        """The saved case with the current edits (raises :class:`~forecast.case.edit.EditError`)."""
        return apply_edits(self.saved, self.edit_list())

    def _on_slider(self, indicator: str, field: str, value: float) -> None:
        value = round(float(value), 4)
        ind = next(i for i in self.saved.indicators if i.id == indicator)
        saved = getattr(ind, field)
        if value == (saved if saved is not None else self._level_start(ind)):
            self.edits.pop((indicator, field), None)
        else:
            self.edits[(indicator, field)] = value
        if not self._quiet:
            self.update()

    def set(self, indicator: str, **values: float) -> Evaluation:
        """Move sliders from code, e.g. ``ed.set("moscow_pressure", weight=2.5, level=0.8)``.

        ``spread`` is accepted for ``weight_spread``. Returns the new :class:`Evaluation`.
        """
        fields = {("weight_spread" if k == "spread" else k): v for k, v in values.items()}
        unknown = [f"{indicator}.{f}" for f in fields if (indicator, f) not in self.sliders]
        if unknown:
            raise EditError([f"no slider for {', '.join(unknown)}"])
        self._quiet = True
        try:
            for f, v in fields.items():
                slider = self.sliders[(indicator, f)]
                slider.max = max(slider.max, v)
                slider.value = v
                self._on_slider(indicator, f, v)  # also when the slider clamps or the value is unchanged
        finally:
            self._quiet = False
        return self.update()

    # -- recomputing -------------------------------------------------------------------------
    def update(self) -> Evaluation | None:
        """Recompute the forecast for the current edits and redraw (the sliders' callback)."""
        self.status.value = RECOMPUTING
        try:
            case = self.edited_case()
        except EditError as exc:
            self.message.value = f"<span style='color:#b2182b'>{html.escape(exc.render())}</span>"
            self.status.value = ""
            return None
        with quiet_logs():
            self.evaluation = self.live.evaluate(case)
        if self._diff_shown:
            self.diff_view.value = STALE_DIFF
            self._diff_shown = False
        self._render()
        return self.evaluation

    def _render(self) -> None:
        ev = self.evaluation
        self.headline.value = probability_html(ev, self.saved_evaluation if self.edits else None)
        self.status.value = path_html(ev) + (f" · {len(self.edits)} unsaved edit(s)" if self.edits else " · as saved")
        table = ev.contributions
        need = float(max(table["hdi_low"].abs().max(), table["hdi_high"].abs().max(), 0.1)) * 1.1
        self._limit = need if self._limit is None or need > self._limit else self._limit
        self.chart.value = contributions_svg(table, limit=self._limit)
        for ind in self.saved.indicators:
            r = table.loc[ind.id]
            self.readouts[ind.id].value = (
                f"<div style='font-size:90%'>contribution <b>{r['mean']:+.2f}</b> log-odds "
                f"({r['hdi_low']:+.2f} to {r['hdi_high']:+.2f}); level from readings and judgment "
                f"<b>{r['level_mean']:.2f}</b><br><span style='color:#555'>{html.escape(ind.weight_rationale)}</span></div>"
            )

    # -- buttons -----------------------------------------------------------------------------
    def save(self):
        """Write the edits into ``case.toml`` (:func:`forecast.case.edit.save`); returns its result or None."""
        if not self.edits:
            self.message.value = "<i>Nothing to save: no edits.</i>"
            return None
        try:
            result = save(self.saved.root, self.edit_list())
        except EditError as exc:
            self.message.value = f"<span style='color:#b2182b'>{html.escape(exc.render())}</span>"
            return None
        self.last_save = result
        self._reload(result.case)
        self.message.value = (
            f"Saved {len(result.edits)} value(s) to <code>{html.escape(str(result.path))}</code>:"
            f"<pre style='font-size:85%'>{html.escape(result.diff)}</pre>"
        )
        return result

    def revert(self) -> Evaluation:
        """Drop the edits and go back to the values in the files (re-read from disk)."""
        self.message.value = ""
        try:
            case = load_case(self.saved.root)
        except Exception as exc:  # noqa: BLE001 - shown to the analyst, the editor stays usable
            self.message.value = f"<span style='color:#b2182b'>could not reload the case: {html.escape(str(exc))}</span>"
            case = self.saved
        self._reload(case)
        return self.evaluation

    def _reload(self, case: Case) -> None:
        with quiet_logs():
            self.live.reset(case)
            self.saved_evaluation = self.live.evaluate(case)
        self.evaluation = self.saved_evaluation
        self.saved = case
        self.edits = {}
        self._quiet = True
        try:
            for ind in case.indicators:
                for f in ("weight", "weight_spread", "level"):
                    slider = self.sliders[(ind.id, f)]
                    value = self._level_start(ind) if f == "level" else getattr(ind, f)
                    slider.max = max(slider.max, value)
                    slider.value = value
            self.edits = {}
        finally:
            self._quiet = False
        self.diff_view.value = ""
        self._diff_shown = False
        self._render()

    def diff(self):
        """Edited against saved values, and how much each change alone moved P(event) (a DataFrame)."""
        edited = self.edited_case()
        with quiet_logs():
            return effects(self.saved, edited, lambda c: self.live.evaluate(c).mean)

    def file_diff(self) -> str:
        """The git-style diff that Save would write to ``case.toml`` (nothing is written)."""
        return preview(self.saved.root, self.edit_list()).diff if self.edits else ""

    def show_diff(self):
        """Fill the diff view (the Diff button); returns the table."""
        self.status.value = RECOMPUTING
        t0 = time.perf_counter()
        try:
            table = self.diff()
            text = self.file_diff()
        except EditError as exc:
            self.diff_view.value = f"<span style='color:#b2182b'>{html.escape(exc.render())}</span>"
            return None
        finally:
            self._render()
        pre = f"<pre style='font-size:85%'>{html.escape(text)}</pre>" if text else ""
        self.diff_view.value = effects_html(table) + pre + f"<span style='color:#777'>({1000 * (time.perf_counter() - t0):.0f} ms)</span>"
        self._diff_shown = True
        return table

    def changes(self):
        """The edited values that differ from the saved ones (:func:`forecast.case.edit.changes`)."""
        return changes(self.saved, self.edited_case())

    # -- display -----------------------------------------------------------------------------
    def show(self):
        """Display the panel (in a notebook) and return the editor."""
        from IPython.display import display

        display(self.widget)
        return self

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def edit(case: Case | str | Path, **kwargs) -> Editor:
    """Build the editor for a case (folder or :class:`~forecast.case.load.Case`), display it and return it."""
    return Editor(case, **kwargs).show()
