"""Batch grading of a whole class: intake, a resumable journal, parallel workers, exports.

Entry point: :func:`grader.batch.runner.run_batch` (what ``grader batch`` calls).
Modules: :mod:`~grader.intake.classroom` (class folders and LMS zips),
:mod:`~grader.batch.journal` (per-submission state on disk),
:mod:`~grader.batch.runner` (orchestration), :mod:`~grader.report.results` (the
plain data a batch produces) and :mod:`~grader.report.exports` (gradebook CSV,
Gradescope results, JUnit XML, JSON Lines).
"""

__all__: list[str] = []
