"""One look for every chart: the palette, titles and footers, and export to PNG, SVG and PDF.

Every chart module draws with these pieces, so one colour means one thing everywhere:
``BAND_COLOURS`` are the seven ICD 203 bands, lowest first; ``UP`` and ``DOWN`` mark a push that
raises or lowers the chance of the event.
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("png", "svg", "pdf")
BAND_COLOURS = ("#b2182b", "#d6604d", "#f4a582", "#f7f7f7", "#92c5de", "#4393c3", "#2166ac")
UP, DOWN = "#b35806", "#542788"


def save_figure(fig, stem: str | Path, formats=FORMATS) -> list[Path]:
    """Save ``fig`` as ``stem.png``, ``stem.svg`` and ``stem.pdf`` (or the given formats)."""
    stem = Path(stem)
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        fig.savefig(path, dpi=200 if fmt == "png" else None)
        paths.append(path)
    return paths


def titles(fig, ax, headline: str, question: str) -> None:
    fig.suptitle(headline, x=0.01, ha="left", fontsize=13, fontweight="bold")
    ax.set_title(question, loc="left", fontsize=10, color="#444444")


def footer(fig, result, extra: str = "") -> None:
    fit = result.config.get("fit", {})
    n = fit.get("draws", 0) * fit.get("chains", 0)
    text = (
        f"Evidence up to {result.evidence_date} · {result.evidence_counts()} · "
        f"{n:,} posterior draws, seed {fit.get('seed')} · inputs {result.input_hash[:10]}. {extra}"
    )
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=7, color="#555555", wrap=True)
