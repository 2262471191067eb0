"""Intake: files become notebooks and submissions, or are refused with a reason.

* :mod:`~grader.intake.notebook` reads one notebook (any nbformat version) and
  normalises it, or refuses it with a reason;
* :mod:`~grader.intake.submission`: a :class:`~grader.intake.submission.Submission`
  (one notebook checked alone, or a student of a class), the student's context
  from the roster, and the class intake;
* :mod:`~grader.intake.classroom` finds every student's submission in a class
  folder or an LMS export (:mod:`~grader.intake.archive` walks folders and
  reads zips safely; :mod:`~grader.intake.names` folds names);
* :mod:`~grader.intake.roster` reads the roster CSV.
"""
