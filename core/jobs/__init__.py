"""Background jobs on Celery, each with a ``Job`` row that pages and the API read.

A feature registers a kind with :func:`job` and starts it with :func:`enqueue`; the
function receives a :class:`JobContext` to report progress, keep a checkpoint (so that a
redelivered run resumes instead of redoing work) and set its result.
"""
from core.jobs.service import JobContext, enqueue, job, registered  # noqa: F401
