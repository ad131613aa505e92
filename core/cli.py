"""Operator commands: ``flask users ...``, ``flask audit ...``."""
import click
from flask.cli import AppGroup

from core import audit_anchor
from core.accounts import service as accounts
from core.errors import Refused
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
    except Refused as error:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.errors.items()))
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

    with unscoped("operator: reset a second factor", platform=True):
        user = db.session.execute(select(User).where(User.login == accounts.normalise_login(login))).scalar_one_or_none()
        if user is None:
            raise click.ClickException(f"no account with the login {login}")
        second_factor.remove(user)
        second_factor.record(user, "second_factor.reset", by_operator=True)
    db.session.commit()
    click.echo(f"the second factor of {user.login} is removed")


@audit_cli.command("verify")
@click.option("--no-anchor", is_flag=True, help="Check only; write no new anchor of the chains' heads.")
def verify(no_anchor):
    """Recompute every tenant's hash chain, compare the chains with the latest anchor of their
    heads, reconcile the journal's rows with their last audited values (RT-2, PR-4); then,
    if the chains hold, anchor their heads. Exit status 1 when anything is found."""
    report = audit_anchor.check(write=not no_anchor)
    db.session.rollback()
    for item in report.breaks:
        click.echo(f"BROKEN {_chain(item.tenant_id)}: at entry {item.seq} (row id {item.entry_id}): {item.problem}")
    for finding in report.findings:
        if finding.kind == "anchor":
            click.echo(f"ANCHOR {finding.subject}: {finding.problem}")
        else:
            click.echo(f"BROKEN {_chain(finding.tenant_id)}: {finding.problem}")
    result = report.reconciliation
    for item in result.mismatches:
        click.echo(f"DATA {_chain(item.tenant_id)}: {item.subject}: {item.problem}")
    if result.found > len(result.mismatches):
        click.echo(f"DATA ... and {result.found - len(result.mismatches)} more rows that differ from the audit log")
    anchor = f"compared with the anchor of {report.anchor.when}" if report.anchor else "no earlier anchor found"
    click.echo(f"checked: {report.checked} entries in {report.chains} chains; anchors read: {report.anchors_read} "
               f"({anchor}); journal rows reconciled: {result.rows}")
    if report.written:
        click.echo(f"heads anchored: {report.written}")
    if not report.clean:
        problems = len(report.breaks) + len(report.findings) + result.found
        click.echo(f"PROBLEMS FOUND: {problems}")
        raise SystemExit(1)
    click.echo(f"audit log intact: {report.checked} entries verified")


def _chain(tenant_id):
    return "platform" if tenant_id is None else f"tenant {tenant_id}"


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
