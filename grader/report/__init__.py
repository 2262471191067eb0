"""Reports drawn from the evidence: one HTML page per student and a class dashboard.

:mod:`~grader.report.html` renders the jinja2 templates in ``templates/``;
:mod:`~grader.report.plots` draws the figures (matplotlib, imported lazily);
:mod:`~grader.check.bands` reads the reference bands.
"""

__all__: list[str] = []
