"""Grading: a declarative rubric applied to the evidence and its findings.

* :mod:`~grader.grade.rubric` reads rubric files and applies them;
* :mod:`~grader.grade.result` holds what grading returns (points per criterion
  with their reasons) and the document ``grader check --json`` prints;
* :mod:`~grader.grade.overrides` holds the instructor's decisions made by hand
  (``overrides.yaml``) and applies them to a graded report.
"""
