"""The power-scaling verdict in words, from hand-made summary tables (no sampling, no ArviZ).

Each expected sentence is written out in full; the threshold is 0.05.
"""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.analysis.sensitivity import verdict


def summary(p_prior, p_lik, rows=()):
    index = ["p", *(r[0] for r in rows)]
    return pd.DataFrame({"prior": [p_prior, *(r[1] for r in rows)], "likelihood": [p_lik, *(r[2] for r in rows)]}, index=index)


def components(*rows):
    return pd.DataFrame({"sensitivity_of_p": [r[1] for r in rows], "informative": [r[2] for r in rows]},
                        index=[r[0] for r in rows])


NONE = components(("base", 0.01, False))
NO_PRIOR = " No prior moves it above the threshold on its own."


@pytest.mark.parametrize("prior, lik, head", [
    (0.08, 0.06, "Both the priors (sensitivity 0.08) and the readings (0.06) move P(event) (threshold 0.05). ArviZ calls this "
                 "a potential prior-data conflict; it means the stated priors matter as much as the evidence, so state them with care."),
    (0.05, 0.01, "P(event) is driven by the priors (sensitivity 0.05 ≥ 0.05) and little by the readings (0.01): "
                 "the result is mostly what the analyst stated."),
    (0.02, 0.05, "P(event) is driven by the readings (sensitivity 0.05) and not much by the priors (0.02 < 0.05): "
                 "the evidence, not the stated priors, sets the result."),
    (0.049, 0.0499, "P(event) is insensitive to both the priors (0.05) and the readings (0.05) at the 0.05 threshold."),
])
def test_the_four_heads(prior, lik, head):
    assert verdict(summary(prior, lik), NONE) == head + NO_PRIOR


def test_the_priors_that_move_it_most_are_named_in_order_three_at_most():
    comps = components(("weight (all)", 0.3, True), ("level (all)", 0.2, True), ("base", 0.1, True),
                       ("weight[army]", 0.09, True), ("level[army]", 0.5, False))
    text = verdict(summary(0.01, 0.2), comps)
    assert text.endswith(" The priors that move it most: the weights together (0.30), the level priors together (0.20), "
                         "the base rate (0.10).")
    comps = components(("weight[army]", 0.09, True), ("level[morale]", 0.07, True), ("other", 0.06, True))
    assert verdict(summary(0.01, 0.2), comps).endswith(
        " The priors that move it most: the weight of army (0.09), the level prior of morale (0.07), other (0.06).")


def test_weakly_informed_parameters_are_counted_by_group():
    rows = [("base", 0.06, 0.01), ("weight[a]", 0.07, 0.0), ("weight[b]", 0.01, 0.2), ("weight[c]", 0.05, 0.049),
            ("level[a]", 0.2, 0.3), ("level[b]", 0.08, 0.01)]
    text = verdict(summary(0.01, 0.2, rows), NONE)
    assert text.endswith(NO_PRIOR + " The data barely inform the base rate, 2 of the 3 weights, 1 of the 2 levels: those rest on "
                         "the analyst's statements alone, which is where a second opinion or reference cases would help most.")
    # a parameter that is neither base nor indexed is named as it is
    text = verdict(summary(0.01, 0.2, [("shared_sd", 0.1, 0.0)]), NONE)
    assert " The data barely inform shared_sd: " in text


def test_edges_of_the_threshold_and_unknown_groups():
    assert verdict(summary(0.05, 0.05), NONE).startswith("Both the priors (sensitivity 0.05) and the readings (0.05)")
    named = verdict(summary(0.01, 0.2), components(("tau (all)", 0.2, True)))
    assert named == ("P(event) is driven by the readings (sensitivity 0.20) and not much by the priors (0.01 < 0.05): "
                     "the evidence, not the stated priors, sets the result. The priors that move it most: tau (all) (0.20).")
    rows = [("weight[a]", 0.07, 0.05), ("tau[a]", 0.1, 0.0)]  # a likelihood of exactly 0.05 is informed
    assert verdict(summary(0.01, 0.2, rows), NONE).endswith(
        NO_PRIOR + " The data barely inform 1 of the 1 tau: those rest on the analyst's statements alone, "
        "which is where a second opinion or reference cases would help most.")


def test_the_base_rates_free_variable_is_named_as_the_base_rate():
    from forecast.analysis.sensitivity import _prior_name

    assert _prior_name("base_class") == _prior_name("base") == "the base rate"
