import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from core.jobs import service
from core.jobs.models import STATUSES, Job
from core.tenancy import unscoped

jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--kind")
@click.option("--limit", default=50, show_default=True)
def list_jobs(status, kind, limit):
    """The newest jobs of every tenant."""
    with unscoped("operator: list jobs", platform=True):
        stmt = select(Job).order_by(Job.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(Job.status == status)
        if kind:
            stmt = stmt.where(Job.kind == kind)
        for job in db.session.execute(stmt).scalars():
            click.echo(f"{job.id:>6}  {job.status:<10} {job.progress:>3}%  {job.kind:<20} "
                       f"tenant={job.tenant_id or '-'}  attempts={job.attempts}  {job.created_at:%Y-%m-%d %H:%M}")


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def retry(job_id):
    """Start a failed job again."""
    with unscoped("operator: retry a job", platform=True):
        job = db.session.execute(select(Job).where(Job.id == job_id)).scalar_one_or_none()
        if job is None:
            raise click.ClickException(f"no job {job_id}")
        try:
            service.retry_job(job)
        except ValueError as error:
            raise click.ClickException(f"job {job_id} is {job.status}: {error}")
    click.echo(f"job {job_id} queued again")


def init_app(app):
    app.cli.add_command(jobs_cli)
