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


@users_cli.command("reset-second-factor")
@click.argument("login")
def reset_second_factor(login):
    """Remove an account's second factor and recovery codes (a person who lost both the
    phone and the codes); an admin who must have one sets it up again at the next sign-in."""
    from sqlalchemy import select

    from core.accounts import second_factor
    from core.accounts.models import User
    from core.tenancy import unscoped

    with accounts.as_platform("operator: reset a second factor"), unscoped("operator: find the account"):
        user = db.session.execute(select(User).where(User.login == accounts.normalise_login(login))).scalar_one_or_none()
        if user is None:
            raise click.ClickException(f"no account with the login {login}")
        second_factor.remove(user)
        second_factor.record(user, "second_factor.reset", by_operator=True)
    db.session.commit()
    click.echo(f"the second factor of {user.login} is removed")


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
