"""``flask disclosure check TENANT_ID`` starts a check; ``flask demo sites`` serves the
demo schools' websites on loopback."""
import json
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from flask.cli import AppGroup, with_appcontext

DEMO_SITES_FILE = "demo-sites.json"

disclosure_cli = AppGroup("disclosure", help="Website disclosure checks.")


@disclosure_cli.command("check")
@click.argument("tenant_id", type=int)
@click.option("--wait", is_flag=True, help="Run the check here and now instead of on a worker.")
def check(tenant_id, wait):
    """Check the websites of the active schools under a school, municipality or region."""
    from sqlalchemy import select

    from core.extensions import db
    from core.tenancy import unscoped
    from blueprints.disclosure import check_runs, results
    from tenants.models import Tenant

    with unscoped("operator: start a website check", platform=True):
        tenant = db.session.execute(select(Tenant).where(Tenant.id == tenant_id)).scalar_one_or_none()
        if tenant is None:
            raise click.ClickException(f"no tenant {tenant_id}")
        eager = current_app.config.get("CELERY_TASK_ALWAYS_EAGER")
        current_app.config["CELERY_TASK_ALWAYS_EAGER"] = eager or wait
        try:
            run = check_runs.start_check(tenant, permission_checked=True)
        finally:
            current_app.config["CELERY_TASK_ALWAYS_EAGER"] = eager
        job = check_runs.job_of(run)
        click.echo(f"run {run.id}: {run.schools_total} schools, job {run.job_id} {job.status if job else '?'}")
        if wait:
            for row in results.rating(tenant):
                c = row.check
                figure = f"{c.score:5.1f}  {c.required_found}/{c.required_total}" if c else "    —"
                click.echo(f"  {row.place or '-':>3}  {figure}  {row.school.display_name}"
                           f"{'  (' + c.error + ')' if c and c.error else ''}")


@click.command("sites")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--base-port", default=None, type=int,
              help="The first port wanted (the demo's fixed ports by default); a taken port is swapped for a free one.")
@with_appcontext
def demo_sites(host, base_port):
    """Serve the demo schools' websites (blocking; Ctrl+C stops)."""
    from blueprints.disclosure import sites

    server, urls = sites.start_demo(host=host, base_port=base_port or min(sites.DEMO_PORTS.values()))
    click.echo("demo sites: " + ", ".join(f"{name} {url}" for name, url in urls.items()))
    publish_demo_sites(urls)
    sites.serve_forever(server)


def demo_sites_file() -> Path:
    """Where the demo sites' process says where it listens (short name -> base URL)."""
    return Path(current_app.instance_path) / DEMO_SITES_FILE


def publish_demo_sites(urls: dict[str, str]) -> None:
    """Make the demo schools' website addresses name where their sites listen: written to
    the instance folder for a demo loaded later, and set on the schools loaded already."""
    from core.extensions import db
    from core.tenancy import unscoped
    from blueprints.disclosure import service

    path = demo_sites_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(urls, ensure_ascii=False, indent=1), encoding="utf-8")
    try:
        with unscoped("demo: point the demo schools at their sites", platform=True):
            changed = service.point_demo_schools(urls)
            db.session.commit()
    except SQLAlchemyError as error:  # no demo database yet: the loader reads the file
        db.session.rollback()
        click.echo(f"demo sites: the schools' addresses are left to `flask demo load` ({error.__class__.__name__})")
        return
    click.echo(f"demo sites: {changed} demo school websites point here")


def init_app(app):
    app.cli.add_command(disclosure_cli)
    demo = app.cli.commands.get("demo") if hasattr(app.cli, "commands") else None
    if demo is not None and hasattr(demo, "add_command"):
        demo.add_command(demo_sites)
    else:
        disclosure_cli.add_command(demo_sites, "serve-sites")
