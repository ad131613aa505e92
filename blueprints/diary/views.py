"""The diary's pages, server-rendered (readable with scripts off, light on slow links):
the week and the term of a child, with a switch between the user's children."""
from urllib.parse import quote

from flask import Blueprint, flash, g, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import login_required

from blueprints.diary import activity, labels, marks, messages, notify, paper, service, week
from blueprints.roster import service as roster
from core.access import permission
from core.errors import Refused
from tenants import service as tenants

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
    """The page around the week's content, which is kept per worker by the week's tag (the
    same change keys as the API's, with the children the switch names): a family's second
    look, and a teacher grading the pupil beside, read nothing of the week again."""
    from markupsafe import Markup

    from blueprints.diary import etags

    activity.record(child)
    children = service.children()
    monday = week.monday_of(request.args.get("week"), child.today())
    switch = tuple((c.id, c.pupil.first_name, c.school.id, c.school.short_name or c.school.name) for c in children)
    tag = etags.etag(child, "week page", week.week_key(monday), switch)

    def build():
        data = week.week(child, monday)
        return render_template("diary/_week_body.html", child=child, children=children, labels=labels, data=data,
                               empty=week.empty_reason(data["empty"])).encode()

    body = Markup(etags.kept(tag, build).decode())
    return render_template("diary/week.html", child=child, body=body)


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
    _term, terms = activity.period_of(school_class, None, tenants.local_today(school))
    report = activity_of(school_class, request.args.get("term_id", type=int))
    return render_template("diary/activity.html", report=report, terms=terms, school=school,
                           school_class=school_class)


@bp.route("/classes/<int:class_id>/paper", methods=["GET", "POST"])
@permission(activity.may_see, "class_id")
def class_paper(class_id):
    """IN-2: who is due a paper printout, printing it, and recording it handed over."""
    school_class = g.loaded["class_id"]
    error = None
    if request.method == "POST":
        try:
            since, until = paper.period(request.form.get("since"), request.form.get("until"), None, None)
            handed_on = paper.period(request.form.get("handed_on"), request.form.get("handed_on"), None, None)[0]
            paper.hand_over(school_class, request.form.get("pupil_id", type=int),
                            request.form.get("guardian_id", type=int), since, until, handed_on)
        except Refused as refusal:
            error = refusal
        else:
            flash(_("The printout is recorded as handed over."))
            return redirect(url_for("diary.class_paper", class_id=school_class.id))
    return render_template("diary/paper.html", report=paper.due_list(school_class), school_class=school_class,
                           error=error), 422 if error else 200


@bp.route("/classes/<int:class_id>/paper.pdf")
@permission(activity.may_see, "class_id")
def paper_pdf(class_id):
    """One pupil's printout (``pupil_id``, ``since``, ``until``), or every due one of the class."""
    from flask import Response

    school_class = g.loaded["class_id"]
    report = paper.due_list(school_class)
    pupil_id = request.args.get("pupil_id", type=int)
    rows = [r for r in report["rows"] if r["pupil_id"] == pupil_id] if pupil_id else \
        [r for r in report["rows"] if r["due"]] or report["rows"]
    if not rows:
        from flask import abort

        abort(404)
    since, until = paper.period(request.args.get("since"), request.args.get("until"),
                                min(r["since"] for r in rows), report["today"])
    body = paper.printout(school_class, sorted({r["pupil_id"] for r in rows}), since, until)
    name = f"printout-{school_class.name}-{until.isoformat()}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})


@bp.route("/diary/<int:child_id>/messages", methods=["GET", "POST"])
def child_messages(child_id):
    """A guardian's threads about the child, one per teacher, and a new message to one of
    the child's teachers."""
    child = g.loaded["child_id"]
    error, form = None, {}
    if request.method == "POST":
        form = request.form
        try:
            thread, _m = messages.write_to_teacher(child, form.get("teacher_id", type=int), form.get("text"))
        except Refused as refusal:
            error = refusal
        else:
            flash(_("The message is sent."))
            return redirect(url_for("diary.thread_page", thread_id=thread.id))
    return _page("diary/messages.html", child, threads=messages.threads_of_child(child),
                 teachers=messages.teachers_of(child), error=error, form=form), 422 if error else 200


@bp.route("/messages")
def inbox():
    """A teacher's threads with unread counts; a school admin reads every thread of the school."""
    threads, kind = messages.inbox()
    return render_template("diary/inbox.html", threads=threads, kind=kind)


@bp.route("/messages/<int:thread_id>", methods=["GET", "POST"])
def thread_page(thread_id):
    thread = g.loaded["thread_id"]
    error = None
    if request.method == "POST":
        try:
            messages.reply(thread, request.form.get("text"))
        except Refused as refusal:
            error = refusal
        else:
            return redirect(url_for("diary.thread_page", thread_id=thread.id) + "#last")
    child = g.get("message_child")
    return render_template("diary/thread.html", view=messages.thread_view(thread), child=child,
                           children=service.children() if child else [], error=error), 422 if error else 200


def nav(membership):
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    # Any guardian or pupil role of the user's, whichever acts (a teacher who is also a parent).
    out = []
    if service.has_diary(membership) or service.diary_memberships(g.get("memberships")):
        out.append((_l("Diary"), url_for("diary.home")))
    if membership is not None and membership.tenant_id and membership.role in ("teacher", "school_admin"):
        out.append((_l("Messages"), url_for("diary.inbox")))
    return out


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
