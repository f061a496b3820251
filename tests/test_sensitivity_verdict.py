"""The power-scaling verdict in words, from hand-made summary tables (no sampling, no ArviZ).

Each expected sentence is written out in full; the threshold is 0.05. The likelihood's parts a case
has are the ``likelihood: <part>`` columns of the summary.
"""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.analysis.sensitivity import verdict


def summary(p_prior, p_lik, rows=(), parts=None):
    index = ["p", *(r[0] for r in rows)]
    table = pd.DataFrame({"prior": [p_prior, *(r[1] for r in rows)], "likelihood": [p_lik, *(r[2] for r in rows)]}, index=index)
    for name, value in (parts or {}).items():
        table[f"likelihood: {name}"] = [value] + [0.0] * len(rows)
    return table


def components(*rows):
    return pd.DataFrame({"sensitivity_of_p": [r[1] for r in rows], "informative": [r[2] for r in rows]},
                        index=[r[0] for r in rows])


NONE = components(("base_class", 0.01, False))
NO_PRIOR = " No prior moves it above the threshold on its own (the largest: the base rate, 0.01)."
READINGS = {"readings": 0.06}


@pytest.mark.parametrize("prior, lik, head", [
    (0.08, 0.06, "Both the priors (sensitivity 0.08) and the evidence (0.06: the readings) move P(event) (threshold 0.05). "
                 "ArviZ calls this a potential prior-data conflict; it means the stated priors matter as much as the evidence, "
                 "so state them with care."),
    (0.05, 0.01, "P(event) is driven by the priors (sensitivity 0.05 ≥ 0.05) and little by the evidence (0.01: the readings): "
                 "the result is mostly what the analyst stated."),
    (0.02, 0.05, "P(event) is driven by the evidence (0.05: the readings) and not much by the priors (0.02 < 0.05): "
                 "the evidence, not the stated priors, sets the result."),
    (0.049, 0.0499, "P(event) is insensitive to both the priors (0.05) and the evidence (0.05: the readings) at the 0.05 threshold."),
])
def test_the_four_heads(prior, lik, head):
    assert verdict(summary(prior, lik, parts=READINGS), NONE) == head + NO_PRIOR


def test_every_part_of_the_likelihood_is_named_and_ranked():
    parts = {"readings": 0.15, "reference outcomes": 0.03, "judgments": 0.04}
    text = verdict(summary(0.14, 0.18, parts=parts), NONE)
    assert text.startswith("Both the priors (sensitivity 0.14) and the evidence (0.18: readings, reference outcomes and "
                           "judgments together) move P(event)")
    assert " Scaled one part at a time: the readings 0.15, the judgments 0.04, the reference outcomes 0.03." in text
    no_parts = verdict(summary(0.01, 0.2), NONE)
    assert no_parts.startswith("P(event) is driven by the evidence (0.20) and not much by the priors")


def test_the_priors_that_move_it_most_are_named_in_order_three_at_most():
    comps = components(("weight (all)", 0.3, True), ("level (all)", 0.2, True), ("base_class", 0.1, True),
                       ("weight[army]", 0.09, True), ("level[army]", 0.5, False))
    text = verdict(summary(0.01, 0.2, parts=READINGS), comps)
    assert text.endswith(" The priors that move it most: the weights together (0.30), the level priors together (0.20), "
                         "the base rate (0.10).")
    comps = components(("weight[army]", 0.09, True), ("level[morale]", 0.07, True), ("other", 0.06, True))
    assert verdict(summary(0.01, 0.2, parts=READINGS), comps).endswith(
        " The priors that move it most: the weight of army (0.09), the level prior of morale (0.07), other (0.06).")


WEAK = [("base", 0.06, 0.01), ("weight[a]", 0.07, 0.0), ("weight[b]", 0.01, 0.2), ("weight[c]", 0.05, 0.049),
        ("level[a]", 0.2, 0.3), ("level[b]", 0.08, 0.01)]


def test_weakly_informed_parameters_are_counted_by_group_with_advice_for_a_case_without_reference_cases():
    text = verdict(summary(0.01, 0.2, WEAK, parts=READINGS), NONE)
    assert text.endswith(NO_PRIOR + " The data barely inform the base rate, 2 of the 3 weights, 1 of the 2 levels: those rest on "
                         "the analyst's statements alone. What would help: for the levels, readings from sources independent of "
                         "those already cited; for the weights and the base rate, reference cases coded on the indicators "
                         "(reference_cases.csv, reference_codings.csv), or expert judgments of the event (judgments.csv).")


def test_a_case_with_reference_cases_and_judgments_is_not_told_to_add_them():
    parts = {"readings": 0.1, "reference outcomes": 0.05, "judgments": 0.01}
    text = verdict(summary(0.01, 0.2, [("weight[a]", 0.07, 0.0)], parts=parts), NONE)
    assert text.endswith(" The data barely inform 1 of the 1 weights: those rest on the analyst's statements alone. "
                         "What would help: for the weights, more cases of the reference class, or codings of the indicators "
                         "the reference cases leave uncoded.")
    assert "reference_cases.csv" not in text and "judgments.csv" not in text


def test_a_parameter_outside_the_known_groups_gets_a_second_opinion():
    text = verdict(summary(0.01, 0.2, [("shared_sd", 0.1, 0.0)], parts=READINGS), NONE)
    assert text.endswith(" The data barely inform shared_sd: those rest on the analyst's statements alone. "
                         "What would help: for shared_sd, a second opinion on the stated value.")


def test_edges_of_the_threshold_and_unknown_groups():
    assert verdict(summary(0.05, 0.05, parts=READINGS), NONE).startswith("Both the priors (sensitivity 0.05) and the evidence (0.05")
    named = verdict(summary(0.01, 0.2, parts=READINGS), components(("tau (all)", 0.2, True)))
    assert named == ("P(event) is driven by the evidence (0.20: the readings) and not much by the priors (0.01 < 0.05): "
                     "the evidence, not the stated priors, sets the result. The priors that move it most: tau (all) (0.20).")
    rows = [("weight[a]", 0.07, 0.05), ("tau[a]", 0.1, 0.0)]  # a likelihood of exactly 0.05 is informed
    assert verdict(summary(0.01, 0.2, rows, parts=READINGS), NONE).endswith(
        NO_PRIOR + " The data barely inform 1 of the 1 tau: those rest on the analyst's statements alone. "
        "What would help: for tau, a second opinion on the stated value.")


def test_without_an_informative_prior_the_largest_is_named():
    comps = components(("base_class", 0.01, False), ("weight[gap]", 0.04, False))
    assert verdict(summary(0.01, 0.2, parts=READINGS), comps).endswith(
        " No prior moves it above the threshold on its own (the largest: the weight of gap, 0.04).")


def test_the_base_rates_free_variable_is_named_as_the_base_rate():
    from forecast.analysis.sensitivity import _prior_name

    assert _prior_name("base_class") == _prior_name("base") == "the base rate"
