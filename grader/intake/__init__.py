"""Intake: files become notebooks and submissions, or are refused with a reason.

* :mod:`~grader.intake.notebook` reads one notebook (any nbformat version) and
  normalises it;
* :mod:`~grader.intake.classroom` finds every student's submission in a class
  folder or an LMS export;
* :mod:`~grader.intake.roster` reads the roster CSV.
"""
