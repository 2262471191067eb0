"""Checks: findings about the evidence, as pure functions over it.

* :mod:`~grader.check.bands` reads the reference bands;
  :mod:`~grader.check.band_checks` compares the models with them
  (``below-band``, ``above-band``, ``ordering``, ...) and runs the checks that
  need no band (:mod:`~grader.check.unbanded`: ``test-above-validation``,
  ``at-chance``, ...); :mod:`~grader.check.advice` words what both find, with the
  likely causes and the advice for the framework of each model;
* the checks of a run, which trust nothing the kernel said
  (:func:`~grader.check.run.run_findings`): :mod:`~grader.check.sandbox`
  (a weak sandbox, dropped output), :mod:`~grader.check.integrity` (test data in
  training, validation on the test set, stale printed numbers, a pretrained
  base fed the wrong input scale), :mod:`~grader.check.verification` (forged or
  unverified accuracies) and :mod:`~grader.check.reproducibility` (claimed
  against re-run).

A new check is a function that takes evidence (and what it needs of the run)
and returns :class:`~grader.evidence.Finding` objects, their messages in the language in
use (:mod:`grader.i18n`); the pipeline (:mod:`grader.pipeline`) calls it.
"""
