"""Website-disclosure checks (WD-1..WD-5)."""
from core import register_nav, register_url_loader
from core.extensions import api as api_ext
from core.orm import get_or_404

# The periodic work: once a day, start the checks whose schedule (disclosure.schedule in
# the regulation: weekly or monthly since the school's last check) is due.
SCHEDULE_ENTRY = {"task": "tabel.enqueue_periodic", "schedule": 24 * 3600, "args": ["disclosure_schedule"]}


def init_app(app):
    # tasks register the job kinds
    from blueprints.disclosure import api, checks, cli, models, regulations, service, tasks, views  # noqa: F401
    from tenants.regulations import register_section

    # The disclosure section of the regulation, declared here beside the code that reads it;
    # its default checklist lives with the checks that read it.
    register_section(app, regulations.section(checks.default_checklist()))
    # Networks besides the Internet that the checks may read (CIDRs); none by default, so a
    # website address cannot reach the deployment's own network. The demo allows loopback.
    app.config.setdefault("DISCLOSURE_ALLOWED_NETWORKS", [])
    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    for name, model in (("run_id", models.DisclosureRun), ("check_id", models.SiteCheck),
                        ("finding_id", models.Finding), ("dismissal_id", models.Dismissal)):
        register_url_loader(app, name, lambda value, model=model: get_or_404(model, value))
    register_nav(app, views.nav)
    cli.init_app(app)
    _schedule(app)
    from core.signals import demo_loaded

    demo_loaded.connect(_demo_sites, app)


def _schedule(app):
    schedule = dict(app.config.get("CELERY_BEAT_SCHEDULE") or {})
    schedule.setdefault("disclosure-schedule", SCHEDULE_ENTRY)
    app.config["CELERY_BEAT_SCHEDULE"] = schedule
    celery = app.extensions.get("celery")
    if celery is not None:
        celery.conf.beat_schedule = schedule


def _demo_sites(app, logins):
    """The Kirovsk demo schools' websites are the fake sites that ``flask demo sites``
    serves on loopback, so a check of the demo reads real pages: where that process said
    it listens, else on the demo's fixed ports."""
    import json

    from blueprints.disclosure import cli, service
    from blueprints.disclosure.sites import DEMO_DOWN, DEMO_PORTS

    host = app.config.get("DISCLOSURE_DEMO_HOST", "127.0.0.1")
    urls = {name: f"http://{host}:{port}/" for name, port in {**DEMO_PORTS, **DEMO_DOWN}.items()}
    try:
        urls.update(json.loads(cli.demo_sites_file().read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    changed = service.point_demo_schools(urls)
    return f"{changed} school websites served by `flask demo sites`"
