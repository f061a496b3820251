"""The shape of a case: pydantic models for ``case.toml``, ``readings.csv`` and ``sources.csv``.

Every model forbids unknown fields, so a misspelt key is reported rather than ignored. The ranges
stated in ``docs/case-format.md`` are enforced here, with the rules of :mod:`forecast.case.checks`;
checks that span files (ids that must exist, quotes that must occur in their source, dates against
the horizon) live in :mod:`forecast.case.load`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from forecast.case.checks import DEFAULT_SCALE, GRADE_PATTERN, flipped_multiplier, multiplier_problem

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", min_length=1)]
IndicatorId = Annotated[str, Field(pattern=r"^[a-z0-9_]+$", min_length=1)]
Text = Annotated[str, Field(min_length=1)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Probability = Annotated[float, Field(gt=0.0, lt=1.0)]

Grade = Annotated[str, Field(pattern=GRADE_PATTERN)]


class Strict(BaseModel):
    """Base model: unknown fields are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class CaseInfo(Strict):
    id: Id
    title: Text
    sources: Text


class Question(Strict):
    text: Text
    criteria: Text
    horizon: dt.date
    horizon_rationale: str | None = None
    outcome: Literal["yes", "no"] | None = None
    resolved_on: dt.date | None = None

    @model_validator(mode="after")
    def _resolved_needs_outcome(self) -> Question:
        if self.resolved_on is not None and self.outcome is None:
            raise ValueError("resolved_on is set but outcome is not; add outcome = \"yes\" or \"no\"")
        return self


class BaseRate(Strict):
    value: Probability
    range: tuple[Probability, Probability]
    reference_class: Text
    rationale: Text
    elicited_from: Literal["other_knowledge", "reference_cases"] = "other_knowledge"
    """What the stated rate was judged from. ``reference_cases``: from the cases in
    ``reference_cases.csv``, which the model then counts as the evidence behind it and so widens the
    prior to a vague one (docs/model.md, "Base rate"), instead of counting those cases twice."""

    @model_validator(mode="after")
    def _value_inside_range(self) -> BaseRate:
        low, high = self.range
        if not low < self.value < high:
            raise ValueError(
                f"range [{low}, {high}] must hold the value {self.value} strictly inside it "
                "(low < value < high)"
            )
        return self


class ModelSettings(Strict):
    level_prior: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]] = (2.0, 2.0)
    reading_sd: Annotated[float, Field(gt=0.0, le=0.5)] = 0.12
    source_correlation: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5
    """The share of their error that one source's readings of one indicator have in common."""
    interested_source_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.15
    """The sd (0-1 scale) of a bias shared by every reading of a source whose ``stance`` is ``interested``."""
    level_volatility: Annotated[float, Field(ge=0.0, le=5.0)] = 0.5
    """How fast a level moves: the sd of its random walk, in log-odds per square-root year."""
    judgment_sd: Annotated[float, Field(gt=0.0, le=5.0)] = 1.0
    judgment_shared_sd: Annotated[float, Field(ge=0.0, le=5.0)] = 0.5


class Indicator(Strict):
    id: IndicatorId
    name: Text
    description: Text
    unit: Text
    direction: Literal["raises", "lowers"]
    weight: Annotated[float, Field(gt=0.0)]
    weight_unit: Literal["odds_multiplier", "log_odds"]
    weight_spread: Annotated[float, Field(gt=1.0)]
    weight_rationale: Text
    scale: dict[str, Unit] | None = None
    volatility: Annotated[float, Field(ge=0.0, le=5.0)] | None = None
    """This indicator's own ``level_volatility`` (optional; the case's otherwise)."""
    level: Unit | None = None
    """The analyst's judgment of the current level (optional): the mode of this indicator's level
    prior, which its readings then update (see docs/model.md, "Levels")."""

    @model_validator(mode="after")
    def _multiplier_above_one(self) -> Indicator:
        wrong = multiplier_problem(self.weight, self.weight_unit)
        if wrong:
            raise ValueError(f"{wrong}; {flipped_multiplier(self.weight)}")
        return self

    @property
    def sign(self) -> int:
        """+1 if the indicator raises the chance of the event, -1 if it lowers it."""
        return 1 if self.direction == "raises" else -1

    def words(self) -> dict[str, float]:
        """This indicator's ordinal words, lower-cased."""
        return {k.lower(): v for k, v in (self.scale or DEFAULT_SCALE).items()}


class CaseFile(Strict):
    """The whole of ``case.toml``."""

    case: CaseInfo
    question: Question
    base_rate: BaseRate
    model: ModelSettings = ModelSettings()
    indicators: Annotated[list[Indicator], Field(min_length=1)]


class Reading(Strict):
    """One row of ``readings.csv``, with ``level`` already turned into a number."""

    id: Id
    indicator: IndicatorId
    date: dt.date
    level: Unit
    level_text: str
    source: Id
    quote: Text
    grade: Grade
    rationale: Text

    @field_validator("grade")
    @classmethod
    def _upper(cls, grade: str) -> str:
        return grade.upper()


class Source(Strict):
    """One row of ``seeds/sources.csv``."""

    id: Id
    file: Text
    title: Text
    outlet: Text
    author: str = ""
    url: str = ""
    published: dt.date
    date_note: str = ""
    piece: str = ""
    """The words that open this source's piece of a file shared with other sources (empty: the whole file)."""
    stance: Literal["neutral", "interested"] = "neutral"
    """``interested``: a party to the question (a government at war, a campaign), whose readings share
    a bias of sd ``[model] interested_source_sd``."""


READING_COLUMNS = ("id", "indicator", "date", "level", "source", "quote", "grade", "rationale")
SOURCE_COLUMNS = ("id", "file", "title", "outlet", "author", "url", "published", "date_note", "piece", "stance")
SOURCE_OPTIONAL = ("author", "url", "date_note", "piece", "stance")
