"""Grades back into the learning management system: Moodle and Canvas files.

* :mod:`~grader.report.lms.feedback`: the short feedback text each student
  gets (points, what was missing, the instructor's decisions, where the full
  report is), and which grades are held back (review pending, points that do
  not count yet);
* :mod:`~grader.report.lms.moodle`: Moodle's offline grading worksheet (read
  the one downloaded from the assignment, fill it, match students by the
  participant identifier) and the feedback-files zip;
* :mod:`~grader.report.lms.canvas`: the Canvas gradebook CSV.

Each reads and writes text or bytes; the commands (``grader lms``) decide the
files. Nothing here grades: the rows come from a batch folder's stored
results with the instructor's decisions applied.
"""
