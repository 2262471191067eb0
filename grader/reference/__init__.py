"""Reference solutions: seeded runs of the reference notebooks, their bands, and CI over them.

* :mod:`~grader.reference.expectations` reads ``reference/expected.yaml``: what
  each reference notebook must train and earn;
* :mod:`~grader.reference.runs` runs one reference notebook with its
  parameters set (through the pipeline, like a student's);
* :mod:`~grader.reference.build` runs the reference notebooks over several
  seeds and turns the runs into a band file (the format lives in
  :mod:`grader.check.bands`, the comparisons in :mod:`grader.check.band_checks`);
* :mod:`~grader.reference.verify` executes every reference notebook and checks
  that it earns its expected points and lands inside its bands (CI);
* :mod:`~grader.reference.pytest_plugin` lets course staff keep their own
  reference notebooks as tests.
"""
