"""Batch grading of a whole class: the queue, the workers, the journal.

Entry point: :func:`grader.batch.scheduler.run_batch` (what ``grader batch``
calls). :mod:`~grader.batch.options` (what was asked, and when a finished
submission must be graded again), :mod:`~grader.batch.jobs` (one submission
on a worker), :mod:`~grader.batch.executors` (the local process pool),
:mod:`~grader.batch.dask_executor` and :mod:`~grader.batch.slurm` (clusters),
:mod:`~grader.batch.gpus` (GPU slots), :mod:`~grader.batch.journal` (per-
submission state on disk), :mod:`~grader.batch.scheduler` (the loop),
:mod:`~grader.batch.outputs` (the class outputs rebuilt from the stored
results, with the instructor's decisions applied) and
:mod:`~grader.batch.overrides` (recording those decisions: ``grader override``). Intake of the class folder is
:mod:`grader.intake.classroom`; what the reports draw is :mod:`grader.report`.
"""
