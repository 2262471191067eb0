"""Settings every test starts from.

The tests read the grader's English texts unless they choose a language: the
Homework 5 rubric declares Czech, so without this every command would speak
Czech. ``GRADER_LANG`` is the environment form of ``--lang``; the tests of the
language choice itself remove it (``monkeypatch.delenv("GRADER_LANG")``).
"""

from __future__ import annotations

import os

os.environ["GRADER_LANG"] = "en"
