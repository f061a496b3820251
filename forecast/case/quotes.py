"""Matching a quote in its source's text: normalising, pieces of a shared file, the closest passage.

- :func:`normalise_quote`: typographic quotation marks made straight and whitespace runs made one
  space, in the quote and in the source alike, so ``’`` matches ``'`` and line breaks do not matter;
- :func:`piece_spans`: where each named piece of a file shared by several sources lies (a piece runs
  from its opening words to the next piece's, or to the end of the file);
- :func:`closest_passage`: the passage most like a quote that was not found, by rapidfuzz's
  Indel similarity (``100 * (1 - d / (len(a) + len(b)))`` with ``d`` the insertions and deletions
  that turn one into the other), and :func:`word_diff`, where the two differ word by word.

The rule that uses them is :func:`forecast.case.checks.quote_problem`.
"""

from __future__ import annotations

import difflib
import re

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def normalise_quote(text: str) -> str:
    """Text for quote matching: typographic quotes made straight, whitespace runs made one space."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def piece_spans(text: str, markers: dict[str, str]) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Where each named piece of a shared source file lies.

    Parameters
    ----------
    text : str
        The file's normalised text (:func:`normalise_quote`).
    markers : dict
        Source id -> the words that open its piece (normalised). Each piece runs from its opening
        words to the next piece's opening words, or to the end of the file.

    Returns
    -------
    spans, errors : dict, dict
        Source id -> ``(start, end)``; source id -> what is wrong with its marker (not found, or
        found more than once).
    """
    starts, errors = {}, {}
    for sid, marker in markers.items():
        count = text.count(marker)
        if count == 0:
            errors[sid] = "not found"
        elif count > 1:
            errors[sid] = f"found {count} times"
        else:
            starts[sid] = text.index(marker)
    bounds = sorted(set(starts.values())) + [len(text)]
    return {sid: (s, next(b for b in bounds if b > s)) for sid, s in starts.items()}, errors


def closest_passage(quote: str, text: str) -> tuple[str, float]:
    """The passage of ``text`` most like ``quote`` and its similarity in %.

    rapidfuzz's ``partial_ratio_alignment`` finds the best window of the quote's length; its ends are
    then moved to the word boundaries nearby that make the passage most like the quote (the passage
    may be longer or shorter than the quote).
    """
    from rapidfuzz import fuzz

    found = fuzz.partial_ratio_alignment(quote, text)
    slack = max(12, len(quote) // 4)
    lo, hi = max(0, found.dest_start - slack), min(len(text), found.dest_end + slack)
    starts = [i for i in range(lo, min(found.dest_start + slack, len(text))) if text[i].isalnum() and (i == 0 or not text[i - 1].isalnum())]
    ends = [i for i in range(max(found.dest_end - slack, 1), hi + 1) if not text[i - 1].isspace() and (i == len(text) or not text[i].isalnum())]
    pairs = [(s, e) for s in starts or [found.dest_start] for e in ends or [found.dest_end] if s < e]
    start, end = max(pairs, key=lambda se: fuzz.ratio(quote, text[se[0]:se[1]])) if pairs else (found.dest_start, found.dest_end)
    return text[start:end], fuzz.ratio(quote, text[start:end])


def word_diff(quote: str, passage: str, limit: int = 4) -> str:
    """A short description of where ``quote`` and ``passage`` differ, word by word."""
    a, b = quote.split(), passage.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        mine, theirs = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        if op == "replace":
            parts.append(f'the quote has "{mine}" where the source has "{theirs}"')
        elif op == "delete":
            parts.append(f'the quote adds "{mine}"')
        else:
            parts.append(f'the quote leaves out "{theirs}"')
    more = f"; and {len(parts) - limit} more difference(s)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more
