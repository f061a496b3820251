"""Posterior draws to answers: scenarios, sensitivity, the timeline, live edits, scores, backtests.

Nothing here writes files or draws charts. Every module evaluates P through the draws core,
:mod:`forecast.model.draws`.
"""
