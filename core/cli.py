"""Operator commands: ``flask users ...``, ``flask audit ...``."""
import click
from flask.cli import AppGroup

from core import audit
from core.accounts import service as accounts
from core.extensions import db

users_cli = AppGroup("users", help="Accounts.")
audit_cli = AppGroup("audit", help="The hash-chained audit log.")


@users_cli.command("create-admin")
@click.argument("login")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "full_name", default=None, help="Full name (the login if omitted).")
def create_admin(login, password, full_name):
    """Create a platform admin: the first step on a new deployment."""
    try:
        user = accounts.create_platform_admin(login, password, full_name)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}")
    db.session.commit()
    click.echo(f"platform admin {user.login} created (id {user.id})")


@audit_cli.command("verify")
def verify():
    """Recompute every tenant's hash chain; report the first broken link of each."""
    checked, breaks = audit.verify()
    for item in breaks:
        chain = "platform" if item.tenant_id is None else f"tenant {item.tenant_id}"
        click.echo(f"BROKEN {chain}: at entry {item.seq} (row id {item.entry_id}): {item.problem}")
    if breaks:
        raise SystemExit(1)
    click.echo(f"audit log intact: {checked} entries verified")


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
