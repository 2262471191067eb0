"""Reference solutions: seeded runs of the reference notebooks, their bands, and checks against them.

* :mod:`grader.reference.expectations` reads ``reference/expected.yaml``: what each
  reference notebook must train and earn.
* :mod:`grader.reference.build` runs the reference notebooks over several seeds and
  turns the runs into a band file (the format lives in :mod:`grader.check.bands`).
* :mod:`grader.check.band_checks` compares a run's evidence with the band of the same
  data and profile and returns findings (``below-band``, ``above-band``, ``ordering``,
  ``training-time-ratio``, ``overfitting``).
* :mod:`grader.reference.verify` executes every reference notebook and checks that it
  earns its expected points and lands inside its bands (CI).

Importing this package is cheap; the execution layer is imported only when a
notebook is run.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "BandContext",
    "BuildResult",
    "Expectations",
    "NotebookVerdict",
    "VerifyReport",
    "band_findings",
    "build_band_set",
    "build_bands",
    "compare_band_sets",
    "load_expectations",
    "verify_references",
]

if TYPE_CHECKING:
    from grader.check.band_checks import BandContext, band_findings
    from grader.reference.build import (
        BuildResult,
        build_band_set,
        build_bands,
        compare_band_sets,
    )
    from grader.reference.expectations import Expectations, load_expectations
    from grader.reference.verify import NotebookVerdict, VerifyReport, verify_references

_LAZY = {
    "BandContext": "grader.check.band_checks",
    "band_findings": "grader.check.band_checks",
    "BuildResult": "grader.reference.build",
    "build_band_set": "grader.reference.build",
    "build_bands": "grader.reference.build",
    "compare_band_sets": "grader.reference.build",
    "Expectations": "grader.reference.expectations",
    "load_expectations": "grader.reference.expectations",
    "NotebookVerdict": "grader.reference.verify",
    "VerifyReport": "grader.reference.verify",
    "verify_references": "grader.reference.verify",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(module), name)
