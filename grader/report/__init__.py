"""Reports drawn from the evidence and the grades: terminal, HTML pages, exports.

* :mod:`~grader.report.terminal`: the summary ``grader check`` prints;
  :mod:`~grader.report.markdown` the same as Markdown (``--format markdown``),
  :mod:`~grader.report.junit` as JUnit XML (``--junit FILE``), and
  :mod:`~grader.report.inline` as the HTML ``grader.selfcheck()`` shows in a notebook;
* :mod:`~grader.report.student` and :mod:`~grader.report.dashboard`: what a
  student's page and the class dashboard show, as plain values;
  :mod:`~grader.report.html` renders them with the jinja2 templates in
  ``templates/``; :mod:`~grader.report.plots` draws the figures (matplotlib,
  imported lazily); :mod:`~grader.report.words` holds the labels;
* :mod:`~grader.report.results` is the plain data a class grading produces;
  :mod:`~grader.report.exports` writes the gradebook CSV, Gradescope results,
  JUnit XML and JSON Lines; :mod:`~grader.report.decisions` shows the
  instructor's decisions (overrides) the same way in each;
* :mod:`~grader.report.lms`: grades and feedback back into Moodle (grading
  worksheet, feedback-files zip) and Canvas (gradebook import);
  :mod:`~grader.report.similarity`: the similarity page.

A report never runs anything: it imports neither the execution stage nor the batch.
"""
