"""``flask demo load``: the demo tenants and accounts."""
import click
from flask import current_app
from flask.cli import AppGroup

from core.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--password", default=None, help="Password of every demo account.")
def load(password):
    """Load the demo tenants and one account per role, into an empty database only."""
    from tenants import demo

    if not demo.is_empty():
        click.echo("demo: the database already holds tenants; nothing loaded")
        print_logins(None)
        return
    from core.signals import demo_loaded
    from core.tenancy import unscoped

    logins = demo.load(password)
    db.session.commit()
    click.echo(f"demo: loaded {len(demo.TREE)} regions and {len(logins)} accounts")
    with unscoped("demo: feature data", platform=True):
        for _receiver, summary in demo_loaded.send(current_app._get_current_object(), logins=logins):
            db.session.commit()
            if summary:
                click.echo(f"demo: {summary}")
    print_logins(password)


def print_logins(password):
    from tenants import demo

    password = password or current_app.config["DEMO_PASSWORD"]
    click.echo("Demo accounts (password: %s):" % password)
    for login, _name, role, short in demo.ACCOUNTS:
        click.echo(f"  {login:<10} {role:<20} {short or '—'}")


def init_app(app):
    app.cli.add_command(demo_cli)
