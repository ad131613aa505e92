import marshmallow as ma

from core.apispec import UtcDateTime
from core.jobs.models import STATUSES


class JobSchema(ma.Schema):
    id = ma.fields.Integer()
    tenant_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String()
    kind_label = ma.fields.Function(lambda j: str(_label(j.kind)))
    status = ma.fields.String(metadata={"description": " | ".join(STATUSES)})
    progress = ma.fields.Integer(metadata={"description": "0-100"})
    message = ma.fields.Function(lambda j: _message(j))
    result = ma.fields.Method("_result", allow_none=True)
    result_url = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer()
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    error = ma.fields.Method("_error", allow_none=True, metadata={"description": "The traceback (admins only)"})

    def _result(self, job):
        """One-time codes in a result are shown to whoever started the job, to no one else."""
        from flask_login import current_user

        if isinstance(job.result, dict) and "codes" in job.result and (
                not current_user.is_authenticated or current_user.id != job.created_by_id):
            return {k: v for k, v in job.result.items() if k != "codes"}
        return job.result

    def _error(self, job):
        from core.jobs.service import is_admin_of_jobs

        return job.error if is_admin_of_jobs() else None


def _label(kind):
    from core.jobs.service import label_of

    return label_of(kind)


def _message(job):
    from core.jobs.service import message_of

    return message_of(job)


class JobListArgs(ma.Schema):
    kind = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
