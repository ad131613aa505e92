"""The diary's pages, server-rendered (readable with scripts off, light on slow links):
the week and the term of a child, with a switch between the user's children."""
from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from blueprints.diary import labels, marks, notify, service, week
from blueprints.roster import service as roster
from core.access import permission
from tenants import service as tenants

bp = Blueprint("diary", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/diary")


@bp.before_request
@login_required
def _signed_in():
    return None


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
    monday = week.monday_of(request.args.get("week"), child.today())
    data = week.week(child, monday)
    return _page("diary/week.html", child, data=data, empty=week.empty_reason(data["empty"]))


@bp.route("/diary/<int:child_id>/term")
def term_page(child_id):
    child = g.loaded["child_id"]
    data = marks.term_page(child, request.args.get("term_id", type=int))
    empty = week.empty_reason(data["empty"]) if data["empty"] else None
    return _page("diary/term.html", child, data=data, empty=empty)


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


@bp.route("/schools/<int:school_id>/notifications")
@permission(roster.can_manage, "school_id")
def school_notifications(school_id):
    """IN-1: the school's e-mails and SMS to guardians that have not gone out (a server down,
    a wrong address), for its admins; what was sent today is counted."""
    school = g.loaded["school_id"]
    data = notify.undelivered(school)
    with_words = [(row, guardian, notify.problem_words(row)) for row, guardian in data["rows"]]
    return render_template("diary/notifications.html", school=school, chain=tenants.chain_of(school),
                           rows=with_words, sent_today=data["sent_today"], labels=labels,
                           channel_words={"email": _("E-mail"), "sms": _("SMS")},
                           kind_words={"grade": _("Grade"), "homework": _("Homework"), "remark": _("Remark"),
                                       "final_mark": _("Final mark")})
