"""Charts for briefings: every ``plot_*`` returns a matplotlib Figure and never shows it; its ``*_data``
twin returns the plotted numbers as a tidy DataFrame. :func:`save_figure` writes PNG, SVG and PDF.
"""

from forecast.output.charts.evidence import (
    calibration_data, plot_calibration, plot_scores, plot_weights_learned, scores_data, weights_learned_data,
)
from forecast.output.charts.new_evidence import (
    evidence_tipping_data, plot_evidence_tipping, plot_value_of_information, value_of_information_data,
)
from forecast.output.charts.posterior import contributions_data, plot_contributions, plot_probability, probability_data
from forecast.output.charts.whatif import (
    attribution_data, plot_attribution, plot_prior_sensitivity, plot_scenarios, plot_timeline, plot_tipping_points,
    plot_tornado, prior_sensitivity_data, scenarios_data, timeline_data, tipping_data, tornado_data,
)
from forecast.output.style import save_figure

__all__ = [
    "attribution_data", "calibration_data", "contributions_data", "evidence_tipping_data", "plot_attribution", "plot_calibration",
    "plot_evidence_tipping", "plot_value_of_information", "value_of_information_data",
    "plot_contributions", "plot_prior_sensitivity", "plot_probability", "plot_scenarios", "plot_scores",
    "plot_timeline", "plot_tipping_points", "plot_tornado", "plot_weights_learned", "prior_sensitivity_data",
    "probability_data", "save_figure", "scenarios_data", "scores_data", "timeline_data", "tipping_data",
    "tornado_data", "weights_learned_data",
]
