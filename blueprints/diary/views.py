"""The diary's pages, server-rendered (readable with scripts off, light on slow links):
the week and the term of a child, with a switch between the user's children."""
from flask import Blueprint, g, render_template, request, send_from_directory
from flask_babel import gettext as _
from flask_login import login_required

from blueprints.diary import activity, labels, marks, service, week
from core.access import permission

bp = Blueprint("diary", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/diary")


@bp.before_request
def _signed_in():
    # The service worker's script is fetched by the browser on its own schedule, signed in
    # or not; it holds no data.
    if request.endpoint == "diary.service_worker":
        return None
    return login_required(lambda: None)()


@bp.route("/diary/sw.js")
def service_worker():
    """The service worker, at a URL that never changes (a browser checks it for updates);
    its scope is every diary page, ``/diary`` included (``Service-Worker-Allowed``)."""
    response = send_from_directory(bp.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/diary"
    return response


def _page(template, child, **context):
    return render_template(template, child=child, children=service.children(), labels=labels,
                           **context)


@bp.route("/diary")
def home():
    """The first child's week; or why there is none (the account is not linked to a pupil)."""
    children = service.children()
    if not children:
        return render_template("diary/unlinked.html", children=[]), 200
    return _week(children[0])


@bp.route("/diary/<int:child_id>")
def week_page(child_id):
    return _week(g.loaded["child_id"])


def _week(child):
    activity.record(child)
    monday = week.monday_of(request.args.get("week"), child.today())
    data = week.week(child, monday)
    return _page("diary/week.html", child, data=data, empty=week.empty_reason(data["empty"]))


@bp.route("/diary/<int:child_id>/term")
def term_page(child_id):
    child = g.loaded["child_id"]
    activity.record(child)
    data = marks.term_page(child, request.args.get("term_id", type=int))
    empty = week.empty_reason(data["empty"]) if data["empty"] else None
    return _page("diary/term.html", child, data=data, empty=empty)


@bp.route("/classes/<int:class_id>/diary-activity")
@permission(activity.may_see, "class_id")
def class_activity(class_id):
    """IN-4: which guardians read the diary less often than the regulation asks."""
    from blueprints.diary.api import activity_of
    from blueprints.roster import service as roster

    school_class = g.loaded["class_id"]
    school = roster.school_of_row(school_class)
    _term, terms = activity.period_of(school_class, None, activity._school_today(school))
    report = activity_of(school_class, request.args.get("term_id", type=int))
    return render_template("diary/activity.html", report=report, terms=terms, school=school,
                           school_class=school_class)


def nav(membership):
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    # Any guardian or pupil role of the user's, whichever acts (a teacher who is also a parent).
    if service.has_diary(membership) or service.diary_memberships(g.get("memberships")):
        return [(_l("Diary"), url_for("diary.home"))]
    return []


def home_for(membership):
    """A pupil or a guardian lands on the diary (issue #14), not on the school's card."""
    from flask import url_for

    return url_for("diary.home") if service.has_diary(membership) else None
