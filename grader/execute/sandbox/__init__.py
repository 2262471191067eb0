"""Sandboxed execution of untrusted notebooks: backends, resource limits, what was enforced.

* :mod:`.registry`: the backends by name (``local``, ``bwrap``, ``container``,
  ``none``) and ``auto``, which picks the strongest that works here;
* :mod:`.launch`: how a kernel is launched (the description a backend turns
  into a kernel spec and a kernel manager);
* :mod:`.bwrap`, :mod:`.container`, :mod:`.fallback` (resource limits only),
  :mod:`.local` (no isolation), on the common base :mod:`.base`;
* :mod:`.limits`, :mod:`.cgroups`, :mod:`.fs`, :mod:`.output`: resource limits,
  the file-system helpers and the output budget;
* :mod:`.report`: the :class:`~.report.SandboxReport` every run records in its
  manifest (which protections held, which did not); :mod:`.finish` finishes a
  run's sandbox and applies its verdict to the run's failure.

The findings a weak sandbox gives are made by :mod:`grader.check.sandbox`.
"""
