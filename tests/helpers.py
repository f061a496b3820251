"""Test helpers shared by several test files (test files never import from each other).

:func:`write_second_case` writes a complete, valid case that has nothing to do with the repository's
own case: another question (resolved yes), four indicators with weights in both units, readings on
three dates with numeric levels and level words, two source documents of its own, and none of the
optional files (no scenarios, reference cases or judgments). Every command and notebook is tested
on it too, so nothing in the package may assume the first case.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

SECOND_CASE_ID = "harbour_strike"

SOURCE_A = """Harbour Gazette, 3 February 2025

Dockworkers vote to prepare for action

Members of the dock workers' union voted by a large majority on Monday to authorise their
committee to call a strike if the pay talks fail. "Our members have waited three years for a
fair offer and their patience is gone," the union secretary said. The port authority said it
still hoped for a settlement and that its offer of four per cent remained on the table.

Shipping lines have begun to reroute some vessels to the neighbouring port as a precaution.
The union's strike fund, built up since 2019, could pay members for about six weeks.
"""

SOURCE_B = """Coastal Business Weekly, 10 March 2025

Talks stall as port authority digs in

The port authority told the union on Friday that it would not raise its pay offer. "There is no
more money this year," its chief executive said. Union officials described the meeting as a
waste of time. The regional government has so far declined to mediate and says the dispute is a
matter for the two parties. Several other unions at the port have promised to support a strike.
"""

SOURCES_CSV = """id,file,title,outlet,author,url,published,date_note
gazette-2025-02-03,harbour_gazette_2025-02-03.txt,Dockworkers vote to prepare for action,Harbour Gazette,,https://example.org/gazette/2025-02-03,2025-02-03,
cbw-2025-03-10,coastal_business_2025-03-10.txt,Talks stall as port authority digs in,Coastal Business Weekly,,https://example.org/cbw/2025-03-10,2025-03-10,
"""

CASE_TOML = """# A second case, written by the tests: nothing here is about the repository's own case.

[case]
id = "harbour_strike"
title = "A dock strike at the harbour"
sources = "../../seeds/sources.csv"

[question]
text = "Will the dock workers' union at the harbour begin a strike by 30 June 2025?"
criteria = "Resolves yes if the union calls out its members in a strike of at least one full day by 30 June 2025."
horizon = 2025-06-30
outcome = "yes"
resolved_on = 2025-04-02

[base_rate]
value = 0.3
range = [0.1, 0.6]
reference_class = "Ports where a union has balloted for strike action during stalled pay talks."
rationale = "About a third of such ballots turn into a strike within months."

[[indicators]]
id = "ballot_mandate"
name = "Ballot mandate"
description = "How strong a mandate the members gave their committee to strike."
unit = "0 = no mandate · 1 = overwhelming mandate"
direction = "raises"
weight = 2.2
weight_unit = "odds_multiplier"
weight_spread = 2.0
weight_rationale = "A mandate is the precondition of a lawful strike."

[[indicators]]
id = "offer_gap"
name = "Gap between the offer and the claim"
description = "How far apart the two sides are on pay."
unit = "0 = agreed · 1 = far apart, no movement"
direction = "raises"
weight = 0.9
weight_unit = "log_odds"
weight_spread = 1.8
weight_rationale = "The wider the gap, the less a deal can be found in time."

[[indicators]]
id = "strike_fund"
name = "Strike fund"
description = "How long the union could pay striking members."
unit = "0 = nothing · 1 = months of pay"
direction = "raises"
weight = 1.4
weight_unit = "odds_multiplier"
weight_spread = 2.5
weight_rationale = "A fund makes a strike affordable, but it does not start one."

[[indicators]]
id = "mediation"
name = "Mediation on offer"
description = "Whether a third party is mediating the dispute."
unit = "0 = no mediation · 1 = active mediation by a trusted party"
direction = "lowers"
weight = 0.7
weight_unit = "log_odds"
weight_spread = 2.0
weight_rationale = "Mediation often buys time and a compromise."
"""

READINGS_CSV = """id,indicator,date,level,source,quote,grade,rationale
vote,ballot_mandate,2025-02-03,very high,gazette-2025-02-03,voted by a large majority on Monday to authorise their committee to call a strike,B2,A large majority is a strong mandate.
patience,ballot_mandate,2025-02-03,0.8,gazette-2025-02-03,their patience is gone,C3,The union's own words; an interested party.
offer-open,offer_gap,2025-02-03,moderate,gazette-2025-02-03,its offer of four per cent remained on the table,B2,An offer is on the table but below the claim.
fund,strike_fund,2025-02-03,0.6,gazette-2025-02-03,could pay members for about six weeks,B2,Six weeks is a moderate cushion.
no-more,offer_gap,2025-03-10,0.9,cbw-2025-03-10,it would not raise its pay offer,B1,The authority refuses to move.
no-mediator,mediation,2025-03-10,none,cbw-2025-03-10,The regional government has so far declined to mediate,B2,Nobody is mediating.
support,ballot_mandate,2025-03-10,high,cbw-2025-03-10,Several other unions at the port have promised to support a strike.,B3,Support from other unions strengthens the hand of the committee.
"""


def write_second_case(root: Path) -> Path:
    """Write the second case under ``root`` as ``root/data/harbour_strike`` with ``root/seeds``.

    Existing files in ``root/seeds`` are kept: the case's sources are added to ``sources.csv``
    (created with its header when missing). Returns the case folder.
    """
    root = Path(root)
    seeds = root / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    (seeds / "harbour_gazette_2025-02-03.txt").write_text(SOURCE_A, encoding="utf-8")
    (seeds / "coastal_business_2025-03-10.txt").write_text(SOURCE_B, encoding="utf-8")
    catalogue = seeds / "sources.csv"
    if catalogue.exists():
        text = catalogue.read_text(encoding="utf-8")
        rows = SOURCES_CSV.split("\n", 1)[1]
        catalogue.write_text(text.rstrip("\n") + "\n" + rows, encoding="utf-8")
    else:
        catalogue.write_text(SOURCES_CSV, encoding="utf-8")
    case = root / "data" / SECOND_CASE_ID
    case.mkdir(parents=True, exist_ok=True)
    (case / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    (case / "readings.csv").write_text(READINGS_CSV, encoding="utf-8")
    return case


READINGS_HEADER = READINGS_CSV.split("\n", 1)[0]
SECOND_CASE_SIGNS = (1.0, 1.0, 1.0, -1.0)
"""The second case's indicator directions, in file order (ballot, gap, fund raise; mediation lowers)."""

SECOND_CASE_BASE_RATE = (0.3, 0.1, 0.6)
"""The second case's base rate and its 90 % range, as written in ``CASE_TOML``."""

REFERENCE_CASES = (
    ("port-north", "yes", {"ballot_mandate": 1.0, "offer_gap": 1.0, "strike_fund": 1.0, "mediation": 0.0}),
    ("port-south", "no", {"ballot_mandate": 0.0, "offer_gap": 0.0, "strike_fund": 0.0, "mediation": 1.0}),
    ("port-east", "yes", {"ballot_mandate": 0.7, "offer_gap": 0.6, "strike_fund": 0.5, "mediation": 0.2}),
)
"""Three reference cases for the second case, every indicator coded: ``(id, outcome, levels)``."""


def reading_rows(until=None) -> list[str]:
    """The second case's reading rows (CSV lines, no header), only those dated on or before ``until``.

    ``until`` is an ISO date string; the comparison is on the text of the ``date`` column, so the cut
    is made by hand, independently of the package.
    """
    rows = [line for line in READINGS_CSV.split("\n")[1:] if line.strip()]
    return [line for line in rows if until is None or line.split(",")[2] <= until]


def write_readings(case: Path, rows: list[str]) -> None:
    """Replace ``case/readings.csv`` by these rows under the usual header."""
    (Path(case) / "readings.csv").write_text("\n".join([READINGS_HEADER, *rows]) + "\n", encoding="utf-8")


def write_reference_cases(case: Path, cases=REFERENCE_CASES) -> None:
    """Write ``reference_cases.csv`` and ``reference_codings.csv`` for ``cases`` into ``case``."""
    case = Path(case)
    refs = ["id,year,actor,situation,outcome,outcome_rationale"]
    codings = ["case,indicator,level,rationale"]
    for ref_id, outcome, levels in cases:
        refs.append(f"{ref_id},2019,A port union,Stalled pay talks and a strike ballot,{outcome},Invented for the tests.")
        codings += [f"{ref_id},{k},{v},Invented for the tests." for k, v in levels.items()]
    (case / "reference_cases.csv").write_text("\n".join(refs) + "\n", encoding="utf-8")
    (case / "reference_codings.csv").write_text("\n".join(codings) + "\n", encoding="utf-8")


def removed_added(old: str, new: str) -> tuple[list[str], list[str]]:
    """The lines a unified diff of ``old`` to ``new`` removes and adds."""
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
    return removed, added


def with_model(case, **settings):
    """A copy of ``case`` whose ``[model]`` settings are changed; ``case`` itself (often a session fixture) is untouched."""
    spec = case.spec.model_copy(deep=True)
    for name, value in settings.items():
        setattr(spec.model, name, value)
    return dataclasses.replace(case, spec=spec)
