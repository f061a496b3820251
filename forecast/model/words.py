"""Words of estimative probability (ICD 203).

The Intelligence Community Directive 203 bands, as half-open intervals on P(event):

==================== ==========
words                range
==================== ==========
almost no chance     0.00-0.05
very unlikely        0.05-0.20
unlikely             0.20-0.45
roughly even chance  0.45-0.55
likely               0.55-0.80
very likely          0.80-0.95
almost certain       0.95-1.00
==================== ==========

ICD 203 prints the outer bands as 1-5 % and 95-99 %; probabilities below 1 % or above 99 % fall in
them too. A probability on a boundary belongs to the higher band (0.20 is "unlikely").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

BANDS: tuple[tuple[str, float, float], ...] = (
    ("almost no chance", 0.00, 0.05),
    ("very unlikely", 0.05, 0.20),
    ("unlikely", 0.20, 0.45),
    ("roughly even chance", 0.45, 0.55),
    ("likely", 0.55, 0.80),
    ("very likely", 0.80, 0.95),
    ("almost certain", 0.95, 1.00),
)
EDGES: tuple[float, ...] = tuple(low for _, low, _ in BANDS[1:])
"""The six inner boundaries between bands: 0.05, 0.20, 0.45, 0.55, 0.80, 0.95."""


def band_index(p: float) -> int:
    """Index into :data:`BANDS` of the band that holds probability ``p``.

    Parameters
    ----------
    p : float
        A probability in [0, 1].

    Returns
    -------
    int
        0 ("almost no chance") to 6 ("almost certain").
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability must be in [0, 1], got {p!r}")
    return bisect.bisect_right(EDGES, p)


def words_for(p: float) -> str:
    """The ICD 203 words for probability ``p``, e.g. ``words_for(0.3) == "unlikely"``."""
    return BANDS[band_index(p)][0]


def band_label(index: int) -> str:
    """``"unlikely: 20-45 %"`` for a band index, the form used in briefings."""
    name, low, high = BANDS[index]
    return f"{name}: {low * 100:.0f}–{high * 100:.0f} %"


@dataclass(frozen=True)
class Estimate:
    """A point probability with its interval, put into words.

    Attributes
    ----------
    words : str
        The band of the point probability.
    label : str
        The band with its range, e.g. ``"unlikely: 20–45 %"``.
    spans : tuple of str
        Every band the interval touches, lowest first.
    warning : str or None
        Set when the interval spans more than one band.
    """

    words: str
    label: str
    spans: tuple[str, ...]
    warning: str | None


def describe(p: float, low: float, high: float) -> Estimate:
    """Put a probability and its interval ``[low, high]`` into estimative words.

    Examples
    --------
    >>> describe(0.3, 0.22, 0.4).warning is None
    True
    >>> describe(0.3, 0.1, 0.5).spans
    ('very unlikely', 'unlikely', 'roughly even chance')
    """
    if not low <= p <= high:
        raise ValueError(f"expected low <= p <= high, got {low!r}, {p!r}, {high!r}")
    i = band_index(p)
    spans = tuple(BANDS[k][0] for k in range(band_index(low), band_index(high) + 1))
    warning = None
    if len(spans) > 1:
        warning = (
            f"The interval {low:.0%}–{high:.0%} spans {len(spans)} bands "
            f"({' / '.join(spans)}): say '{BANDS[i][0]}' with caution"
        )
    return Estimate(words=BANDS[i][0], label=band_label(i), spans=spans, warning=warning)
