"""Answers to files people read: charts (PNG, SVG, PDF) with their tidy-data twins, summaries, run folders."""
