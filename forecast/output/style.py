"""One look for every chart: the palette, titles and footers, percent axes, band shading, and export.

Every chart draws with these pieces, so one colour means one thing on every chart:

- ``BAND_COLOURS``: the seven ICD 203 bands, lowest first, and nothing else. A sequential
  yellow-green-blue scale (ColorBrewer YlGnBu): pale at low probabilities so that nothing reads as an
  alarm, and its relative luminance falls at every step, so neighbouring bands stay apart in greyscale
  and for red-green colour-blind readers (the ordering is by lightness, not by hue).
- ``UP`` and ``DOWN``: a push that raises or lowers the chance of the event (contributions,
  scenarios, attribution, tipping points). Orange and purple: apart for every common colour-vision
  deficiency and, with different lightness, in greyscale.
- ``LEVEL_LOW`` and ``LEVEL_HIGH``: the two ends of an indicator's level range (tornado). Greys, so a
  level never borrows the colours of a push.
- ``PRIOR`` and ``POSTERIOR``: what the analyst stated, and what the model believes after the data.
- ``INK``, ``MUTED``: text and neutral marks.

Relative luminance is the WCAG one, ``Y = 0.2126 R + 0.7152 G + 0.0722 B`` on linearised sRGB; the
tests check the palette's greyscale steps and a deuteranopia simulation (Machado et al. 2009).

Fonts: :data:`RC` sets TrueType (Type 42) fonts in PDF and real ``<text>`` in SVG, so exported
charts stay editable in slide tools. Plot functions draw inside :func:`styled` and
:func:`save_figure` saves inside it, so no chart sets fonts or sizes itself.
"""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

FORMATS = ("png", "svg", "pdf")
DPI = 200

BAND_COLOURS = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
UP, DOWN = "#e08214", "#542788"
LEVEL_LOW, LEVEL_HIGH = "#c6c6c6", "#5a5a5a"
PRIOR, POSTERIOR = "#b5b5b5", "#1a1a1a"
INK, MUTED = "#222222", "#8a8a8a"
BAND_ALPHA = 0.55
"""Opacity of band shading behind data; the bands keep their order in lightness at this opacity."""

SIZES = {"headline": 13, "subtitle": 10, "label": 10, "tick": 9, "note": 8.5, "footer": 8.5}

RC = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": SIZES["label"],
    "axes.labelsize": SIZES["label"],
    "axes.titlesize": SIZES["subtitle"],
    "xtick.labelsize": SIZES["tick"],
    "ytick.labelsize": SIZES["tick"],
    "legend.fontsize": SIZES["note"],
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def rc_context():
    """The chart settings (:data:`RC`) as a matplotlib ``rc_context``."""
    import matplotlib

    return matplotlib.rc_context(RC)


def styled(plot):
    """Decorate a plot function so that it draws inside :func:`rc_context`."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with rc_context():
            return plot(*args, **kwargs)

    return wrapper


def save_figure(fig, stem: str | Path, formats=FORMATS) -> list[Path]:
    """Save ``fig`` as ``stem.png``, ``stem.svg`` and ``stem.pdf`` (or the given formats).

    The folder is created when missing. PNG is written at :data:`DPI` dots per inch; PDF embeds
    TrueType fonts and SVG keeps text as ``<text>`` (:data:`RC`).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with rc_context():
        for fmt in formats:
            path = stem.with_name(f"{stem.name}.{fmt}")
            fig.savefig(path, dpi=DPI if fmt == "png" else None, format=fmt)
            paths.append(path)
    return paths


def wrap(text: str, fig, fontsize: float, share: float = 0.98) -> str:
    """``text`` broken into lines that fit ``share`` of the figure width at ``fontsize`` points."""
    chars = max(20, int(fig.get_figwidth() * share * 72 / (fontsize * 0.56)))
    return "\n".join(textwrap.fill(part, chars) for part in str(text).split("\n"))


def titles(fig, ax, headline: str, subtitle: str = "") -> None:
    """A bold headline across the figure and a grey subtitle (e.g. the question) over the axes."""
    fig.suptitle(wrap(headline, fig, SIZES["headline"] * 1.1), x=0.01, ha="left", fontsize=SIZES["headline"], fontweight="bold")
    if subtitle:
        ax.set_title(wrap(subtitle, fig, SIZES["subtitle"], 0.9), loc="left", fontsize=SIZES["subtitle"], color="#444444")


def footer(fig, text: str) -> None:
    """A readable footnote under the whole figure; the layout keeps clear of it."""
    text = wrap(text.strip(), fig, SIZES["footer"])
    lines = text.count("\n") + 1
    height = (lines * SIZES["footer"] * 1.35 + 10) / (72 * fig.get_figheight())
    fig.get_layout_engine().set(rect=(0, height, 1, 1 - height))
    fig.text(0.01, 0.008, text, ha="left", va="bottom", fontsize=SIZES["footer"], color="#555555", linespacing=1.35)


def provenance(result) -> str:
    """Where a forecast's numbers come from: evidence, draws, seed, input hash, and the Monte Carlo error of P.

    When the MCMC diagnostics fail, the footer says so (:class:`forecast.model.posterior.Diagnostics`).
    """
    fit = result.config.get("fit", {})
    n = fit.get("draws", 0) * fit.get("chains", 0)
    diag = result.diagnostics()
    health = f"Monte Carlo error of P ±{diag.mcse_p_mean * 100:.2f} pts" + ("" if diag.ok else f"; MCMC WARNING: {diag.warnings[0]}")
    return (f"Evidence up to {result.evidence_date} · {result.evidence_counts()} · {n:,} posterior draws, "
            f"seed {fit.get('seed')} · inputs {result.input_hash[:10]} · {health}.")


def percent_axis(ax, axis: str = "x", decimals: int = 0) -> None:
    """Tick labels as percentages of 1 (0.25 reads 25 %)."""
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def band_limit(*values: float, floor: float = 0.2) -> float:
    """The axis end for probabilities up to ``max(values)``: the first band edge at or above it (with room)."""
    from forecast.model.words import BANDS

    need = max(floor, max(values) * 1.08)
    return next((hi for _, _, hi in BANDS if hi >= need), 1.0)


def shade_bands(ax, *, axis: str = "x", limit: float = 1.0, labels: bool = True) -> None:
    """The ICD 203 bands as background spans along ``axis`` up to ``limit``, named at the top (or right)."""
    from forecast.model.words import BANDS

    for (name, lo, hi), colour in zip(BANDS, BAND_COLOURS):
        if lo >= limit - 1e-9:
            continue
        hi = min(hi, limit)
        narrow = (hi - lo) / limit < 0.16
        label = name.replace(" ", "\n", 1) if narrow else name
        if axis == "x":
            ax.axvspan(lo, hi, color=colour, alpha=BAND_ALPHA, lw=0, zorder=0)
            if labels:
                ax.text((lo + hi) / 2, 0.985, label, transform=ax.get_xaxis_transform(), ha="center", va="top",
                        fontsize=SIZES["note"], color="#444444", linespacing=1.1, zorder=1)
        else:
            ax.axhspan(lo, hi, color=colour, alpha=BAND_ALPHA, lw=0, zorder=0)
            if labels:
                ax.text(1.01, (lo + hi) / 2, name, transform=ax.get_yaxis_transform(), ha="left", va="center",
                        fontsize=SIZES["note"], color="#444444")


def legend_below(ax, handles, labels, *, ncol: int | None = None, offset: float = 0.62):
    """A key under the axes, ``offset`` inches below them (clear of the tick labels and axis label).

    An axes legend, so the constrained layout makes room for it; keys above the axes would collide
    with the subtitle.
    """
    from matplotlib.transforms import offset_copy

    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-offset, units="inches")
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=anchor,
                     ncol=ncol or len(labels), handlelength=1.6, columnspacing=1.4)


def push_colour(value: float) -> str:
    """``UP`` for a change that raises the chance, ``DOWN`` for one that lowers it."""
    return UP if value > 0 else DOWN


def odds_axis(ax, lim: float, axis: str = "x") -> None:
    """Ticks of a log-odds axis (``-lim`` to ``lim``) labelled as odds multipliers: ×0.5, ×1, ×2 ..."""
    import numpy as np

    steps = [1, 1.5, 2, 3, 4, 6, 8, 12, 16, 32, 64]
    mults = sorted({m for s in steps for m in (s, 1 / s) if abs(np.log(m)) <= lim * 1.0001})
    if len(mults) > 9:
        mults = [m for m in mults if round(np.log2(m), 6).is_integer()]
    ticks = [float(np.log(m)) for m in mults]
    labels = [f"×{m:g}" if m >= 1 else f"×{m:.2g}" for m in mults]
    (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, labels)
