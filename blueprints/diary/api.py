"""/api/v1 for the diary apps: the caller's children, a child's week and term. A pupil who
is not the caller's (or the caller themself, for a pupil) is 404 (IN-3). The week and the
term answer with an ETag: an unchanged one re-fetched with If-None-Match is 304."""
import json

from flask import Response, g
from flask_babel import gettext as _

from core.apispec import Blueprint
from core.access import permission
from core.errors import Refused
from blueprints.diary import activity, etags, labels, marks, paper, service, week
from blueprints.diary.schemas import (ActivityArgs, ActivitySchema, HandoverSchema, PaperSchema, ChildSchema, MarksArgs, MarksSchema, WeekArgs,
                                      WeekSchema)
from blueprints.roster.schemas import GuardianChannelsSchema
from tenants import service as tenants

blp = Blueprint("diary_api", __name__, description="The diary of pupils and parents")


def child():
    c = g.loaded["child_id"]
    activity.record(c)  # IN-4: a guardian's day of reading, even when the answer is 304
    return c


def child_row(c: service.Child) -> dict:
    return {"id": c.id, "full_name": c.pupil.full_name, "is_self": c.relation == "self",
            "relation": None if c.relation == "self" else (c.relation or None), "class_name": class_name(c),
            "school": {"id": c.school.id, "name": c.school.name,
                       "timezone": tenants.inherited(c.school, c.chain)["timezone"]}}


def class_name(c: service.Child):
    with service.reading(c):
        today = c.today()
        rows = week.enrolments(c, today, today)
    return rows[-1][1].name if rows else None


def _conditional(tag):
    if etags.not_modified(tag):
        response = Response(status=304)
        response.set_etag(tag)
        return response
    return None


@blp.route("/me/children")
@blp.response(200, ChildSchema(many=True))
def my_children():
    """The pupils whose diary the caller reads: a guardian's linked children (in every
    school where they hold a guardian role), a pupil themself."""
    return [child_row(c) for c in service.children()]


@blp.route("/pupils/<int:child_id>/diary")
@blp.arguments(WeekArgs, location="query")
@blp.response(200, WeekSchema)
@blp.alt_response(304, description="Not modified: the week is as the If-None-Match tag says")
def child_week(args, child_id):
    """The week (the school's current one by default): lessons by day with topics, homework,
    the pupil's grades, attendance and remarks."""
    c = child()
    monday = week.monday_of(args.get("week"), c.today())
    tag = etags.etag(c, "week", week.week_key(monday))
    if (answer := _conditional(tag)) is not None:
        return answer

    def build():
        data = week.week(c, monday)
        data["pupil_id"], data["empty_reason"] = c.id, week.empty_reason(data["empty"])
        return json.dumps(WeekSchema().dump(data), ensure_ascii=False, separators=(",", ":")).encode()

    return _json(etags.kept(tag, build), tag)


def _json(body: bytes, tag: str) -> Response:
    """A kept answer as it is sent: flask-smorest passes a Response through."""
    return Response(body, mimetype="application/json",
                    headers={"ETag": f'"{tag}"', "Cache-Control": "private, no-cache"})


def _term(term):
    return {"id": term.id, "name": labels.term_label(term), "starts_on": term.starts_on,
            "ends_on": term.ends_on}


@blp.route("/pupils/<int:child_id>/marks")
@blp.arguments(MarksArgs, location="query")
@blp.response(200, MarksSchema)
@blp.alt_response(304, description="Not modified")
def child_marks(args, child_id):
    """The term by subject: grades, average, the forecast of the period mark (IN-6) while the
    term runs, and the period, year, exam and final marks once visible (DL-4)."""
    c = child()
    tag = etags.etag(c, "marks", args.get("term_id"))
    if (answer := _conditional(tag)) is not None:
        return answer

    def build():
        data = marks.term_page(c, args.get("term_id"))
        data["pupil_id"] = c.id
        data["terms"] = [_term(t) for t in data["terms"]]
        data["term"] = _term(data["term"]) if data["term"] else None
        return json.dumps(MarksSchema().dump(data), ensure_ascii=False, separators=(",", ":")).encode()

    return _json(etags.kept(tag, build), tag)


@blp.route("/classes/<int:class_id>/diary-activity")
@permission(activity.may_see, "class_id")
@blp.arguments(ActivityArgs, location="query")
@blp.response(200, ActivitySchema)
def class_activity(args, class_id):
    """How often each pupil's guardians read the diary in a term, against
    ``informing.parent_checks_per_week`` (IN-4): for the class teacher and the school's
    administration, at the end of each period or while it runs."""
    return activity_of(g.loaded["class_id"], args.get("term_id"))


def activity_of(school_class, term_id):
    from blueprints.roster import service as roster

    school = roster.school_of_row(school_class)
    term, _terms = activity.period_of(school_class, term_id, tenants.local_today(school))
    if term is None:
        raise Refused.on("term_id", _("No such term for this class."))
    return activity.class_report(school_class, term)


@blp.route("/classes/<int:class_id>/paper")
@permission(activity.may_see, "class_id")
@blp.response(200, PaperSchema)
def class_paper(class_id):
    """The guardians of the class who chose paper printouts (IN-2): the interval a printout
    would cover now, when it is due, and whether it is overdue. The PDF is at
    ``/classes/{class_id}/paper.pdf?pupil_id=&since=&until=``."""
    return paper.due_list(g.loaded["class_id"])


@blp.route("/classes/<int:class_id>/paper/handovers", methods=["POST"])
@permission(activity.may_see, "class_id")
@blp.arguments(HandoverSchema)
@blp.response(201, HandoverSchema)
def hand_over(data, class_id):
    """A printout handed to a guardian who chose paper: the interval it covered and the day."""
    if data["since"] > data["until"]:
        raise Refused.on("since", _("The first day comes after the last."))
    return paper.hand_over(g.loaded["class_id"], data["pupil_id"], data["guardian_id"], data["since"],
                           data["until"], data["handed_on"])


@blp.route("/pupils/<int:child_id>/informing")
@blp.response(200, GuardianChannelsSchema)
@blp.alt_response(404, description="The caller is not a guardian of this pupil (a pupil's own diary has none)")
def child_informing(child_id):
    """How the calling guardian is informed about this child (IN-1): the channels, the
    addresses and the application the school recorded them from. The choice changes by a
    new written application at the school, so the app reads it here and does not write it."""
    from flask import abort
    from sqlalchemy import select

    from blueprints.roster.models import Guardian, GuardianLink
    from core.extensions import db
    from flask_login import current_user

    c = child()
    with service.reading(c):
        guardian = db.session.execute(
            select(Guardian).join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
            .where(GuardianLink.pupil_id == c.id, Guardian.user_id == current_user.id)).scalars().first()
    if guardian is None:
        abort(404)
    return {**{f: getattr(guardian, f) for f in ("id", "last_name", "first_name", "middle_name", "email", "phone",
                                                 "application_number", "application_date", "notify_mode",
                                                 "digest_hour", "language")},
            "channels": guardian.channels, "pupil_ids": [c.id]}
