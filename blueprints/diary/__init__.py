"""The diary: what pupils and their guardians see of the journal (IN-3, IN-5, IN-6, DL-4),
as pages and as the mobile apps' API. It reads the roster and the journal and writes nothing."""
from core import register_home, register_nav, register_url_loader
from core.extensions import api as api_ext


def init_app(app):
    from blueprints.diary import activity, api, message_api, messages, service, views  # noqa: F401 (tables)

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    api_ext.register_blueprint(message_api.blp)
    # A child is one of the signed-in user's own (IN-3), found through their roles: 404 otherwise.
    register_url_loader(app, "child_id", service.load_child)
    # A thread of the user's child, of the teacher's own, or of the school its admin manages: 404 otherwise.
    register_url_loader(app, "thread_id", messages.load_thread)
    register_nav(app, views.nav)
    register_home(app, views.home_for, first=True)
    from core.signals import demo_loaded

    demo_loaded.connect(_demo_diary, app)


def _demo_diary(app, logins):
    from blueprints.diary import demo

    return demo.load()
