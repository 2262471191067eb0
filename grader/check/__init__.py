"""Checks: findings about the evidence, as pure functions.

* :mod:`~grader.check.bands` reads the reference bands;
* :mod:`~grader.check.band_checks` compares the models with the bands and
  runs the checks that need no band.
"""
