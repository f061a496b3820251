"""A validated case to its posterior.

- :mod:`~forecast.model.model`: the PyMC model and its data inputs;
- :mod:`~forecast.model.fit`: :class:`FitSettings`, compiling once, sampling with nutpie;
- :mod:`~forecast.model.draws`: the posterior-draws core: P under edits, HDI, the one summary;
- :mod:`~forecast.model.posterior`: :class:`Forecast`, the posterior with its config, diagnostics, save/load;
- :mod:`~forecast.model.words`: the ICD 203 estimative bands;
- :mod:`~forecast.model.simulate`: draws from the model's prior predictive.
"""
