"""``flask disclosure check TENANT_ID`` starts a check; ``flask demo sites`` serves the
demo schools' websites on loopback."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

disclosure_cli = AppGroup("disclosure", help="Website disclosure checks.")


@disclosure_cli.command("check")
@click.argument("tenant_id", type=int)
@click.option("--wait", is_flag=True, help="Run the check here and now instead of on a worker.")
def check(tenant_id, wait):
    """Check the websites of the active schools under a school, municipality or region."""
    from sqlalchemy import select

    from core.accounts import service as accounts
    from core.extensions import db
    from blueprints.disclosure import service
    from tenants.models import Tenant

    with accounts.as_platform("operator: start a website check"):
        tenant = db.session.execute(select(Tenant).where(Tenant.id == tenant_id)).scalar_one_or_none()
        if tenant is None:
            raise click.ClickException(f"no tenant {tenant_id}")
        eager = current_app.config.get("CELERY_TASK_ALWAYS_EAGER")
        current_app.config["CELERY_TASK_ALWAYS_EAGER"] = eager or wait
        try:
            run = service.start_check(tenant, permission_checked=True)
        finally:
            current_app.config["CELERY_TASK_ALWAYS_EAGER"] = eager
        job = service.job_of(run)
        click.echo(f"run {run.id}: {run.schools_total} schools, job {run.job_id} {job.status if job else '?'}")
        if wait:
            for row in service.rating(tenant):
                c = row.check
                figure = f"{c.score:5.1f}  {c.required_found}/{c.required_total}" if c else "    —"
                click.echo(f"  {row.place or '-':>3}  {figure}  {row.school.display_name}"
                           f"{'  (' + c.error + ')' if c and c.error else ''}")


@click.command("sites")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--base-port", default=None, type=int, help="The first port (the demo's fixed ports by default).")
@with_appcontext
def demo_sites(host, base_port):
    """Serve the demo schools' websites (blocking; Ctrl+C stops)."""
    from blueprints.disclosure import sites

    first = min(sites.DEMO_PORTS.values())
    base_port = base_port or first
    click.echo("demo sites: " + ", ".join(f"{name} http://{host}:{port - first + base_port}/"
                                          for name, port in sites.DEMO_PORTS.items()))
    sites.serve_forever(host=host, base_port=base_port)


def init_app(app):
    app.cli.add_command(disclosure_cli)
    demo = app.cli.commands.get("demo") if hasattr(app.cli, "commands") else None
    if demo is not None and hasattr(demo, "add_command"):
        demo.add_command(demo_sites)
    else:
        disclosure_cli.add_command(demo_sites, "serve-sites")
