"""IN-1: guardians who chose e-mail or SMS are told of new grades, homework, remarks and
final marks, at once or in a daily digest at their local hour, in their language; by jobs
after the journal's transaction has committed, retried, and never twice. E-mail goes to a
real SMTP server on loopback (aiosmtpd), SMS to a provider over HTTP or to a file."""
import json

import pytest

from tests.diary.test_diary import grade
from tests.journal.test_final_marks import current_term

CHOICE = {"application_number": "17", "application_date": "2026-09-01", "notify_mode": "instant",
          "language": "ru"}


@pytest.fixture
def informed(family, api):
    """``inform(guardian_index, **choice)``: the school admin records a guardian's choice of
    the first school's class (0 is the family's guardian, whose child is ``family['child']``)."""

    def inform(index=0, **choice):
        guardian = family["first"]["guardian_ids"][index]
        body = {**CHOICE, "channels": ["web", "email"], "email": f"parent{index}@example.ru", **choice}
        response = api(family["a"]["school_admin"], "PATCH", f"/api/v1/guardians/{guardian}", json=body)
        assert response.status_code == 200, response.json
        return guardian

    return inform


def lesson_of(family, week_lessons, n=0):
    return week_lessons(family["first"], family["first"]["teacher_id"])[n]


def outbox(raw_sql):
    return raw_sql("SELECT guardian_id, channel, kind, event, sent_at, failed_at, attempts, last_error "
                   "FROM notification ORDER BY id")


def test_a_new_grade_reaches_the_guardian_by_email_in_russian(family, informed, api, week_lessons, mailbox, raw_sql):
    informed(0)
    lesson = lesson_of(family, week_lessons)
    grade(api, family["teacher"], lesson, family["child"], "5", comment="Решил у доски")
    grade(api, family["teacher"], lesson, family["stranger"], "2")  # their guardian chose no e-mail
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "parent0@example.ru"
    assert message["Subject"] == "Новая оценка: Ученик000 Иван, 5 (отлично), Математика"
    body = message.get_content()
    assert "Здравствуйте, Ольга!" in body
    assert "Ученик000 Иван: оценка 5 (отлично) по предмету «Математика» за 1" in body
    assert "ноября (устный ответ)." in body and "Комментарий учителя: Решил у доски" in body
    assert f"/diary/{family['child']}" in body and "заявление № 17 от 01.09.2026" in body
    assert "Ученик002" not in body
    rows = outbox(raw_sql)
    assert len(rows) == 1 and rows[0].sent_at is not None and rows[0].attempts == 1
    job = raw_sql("SELECT status, kind FROM job WHERE kind = 'diary_notify'")
    assert [(j.kind, j.status) for j in job] == [("diary_notify", "succeeded")]


def test_a_guardian_who_chose_english_reads_english(family, informed, api, week_lessons, mailbox):
    informed(0, language="en")
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "4")
    message = mailbox.messages[0]
    assert message["Subject"] == "New grade: Ученик000 Иван, 4 (good) in Математика"
    assert "Hello, Ольга!" in message.get_content() and "(oral answer)" in message.get_content()


def test_homework_remarks_and_final_marks_are_told_too(family, informed, api, week_lessons, mailbox):
    informed(0)
    teacher, lesson = family["teacher"], lesson_of(family, week_lessons)
    assert api(teacher, "PUT", f"/api/v1/lessons/{lesson}/homework",
               json={"homework": "№ 12, 14", "version": 0}).status_code == 200
    assert api(teacher, "POST", f"/api/v1/lessons/{lesson}/remarks",
               json={"pupil_id": family["child"], "kind": "praise", "text": "Молодец"}).status_code in (200, 201)
    term = current_term(api, teacher, family["first"])
    assert api(teacher, "PUT", f"/api/v1/classes/{family['first']['class_id']}/final-marks/{family['child']}",
               json={"subject_id": family["first"]["subject_id"], "term_id": term["id"], "value": "5",
                     "version": None}).status_code == 200
    subjects = [m["Subject"] for m in mailbox.messages]
    assert subjects == ["Домашнее задание: Ученик000 Иван, Математика", "Похвала: Ученик000 Иван, Математика",
                        "Оценка за период: Ученик000 Иван, 5 (отлично), Математика"]
    assert "№ 12, 14" in mailbox.messages[0].get_content()
    assert "похвала на уроке «Математика»" in mailbox.messages[1].get_content()
    # "no homework" is nothing to tell
    version = api(teacher, "GET", f"/api/v1/lessons/{lesson}").json["version"]
    api(teacher, "PUT", f"/api/v1/lessons/{lesson}/homework", json={"no_homework": True, "version": version})
    assert len(mailbox.messages) == 3


def test_a_refused_write_tells_nobody(family, informed, api, week_lessons, mailbox, raw_sql):
    """The notification is part of the journal's transaction: a write that is rolled back
    (a stale version: 409) leaves no row and sends nothing."""
    informed(0)
    lesson = lesson_of(family, week_lessons)
    grade(api, family["teacher"], lesson, family["child"], "5")
    stale = api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{family['child']}",
                json={"value": "3", "work_type": "У", "version": None})
    assert stale.status_code == 409
    assert len(mailbox.messages) == 1 and len(outbox(raw_sql)) == 1


def test_never_twice_a_job_run_again_sends_nothing_more(app, family, informed, api, week_lessons, mailbox, raw_sql):
    from core.jobs import service as jobs
    from core.tenancy import unscoped

    informed(0)
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    assert len(mailbox.messages) == 1
    job_id = raw_sql("SELECT id FROM job WHERE kind = 'diary_notify'")[0].id
    ids = [r.id for r in raw_sql("SELECT id FROM notification")]
    with app.test_request_context():
        raw_sql("UPDATE job SET status = 'running' WHERE id = :j", j=job_id)  # as if redelivered mid-run
        jobs.run(job_id)
        from blueprints.diary import notify

        with unscoped("test: the periodic sweep", platform=True):
            assert notify.send_due(ids=ids) == {"sent": 0, "failed": 0, "skipped": 0}
            assert notify.send_due()["sent"] == 0
    assert len(mailbox.messages) == 1


def test_a_refusing_server_leaves_the_notification_pending_then_it_is_sent_once(
        app, family, informed, api, week_lessons, mailbox, raw_sql):
    informed(0)
    mailbox.down = True
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    assert mailbox.messages == []
    row = outbox(raw_sql)[0]
    assert row.sent_at is None and row.failed_at is None and row.attempts > 1  # the job retried
    assert "451" in row.last_error
    assert raw_sql("SELECT status FROM job WHERE kind = 'diary_notify'")[0].status == "failed"  # visible to admins
    mailbox.down = False
    with app.test_request_context():
        from blueprints.diary import notify
        from core.tenancy import unscoped

        with unscoped("test: the periodic sweep", platform=True):
            assert notify.send_due()["sent"] == 1
            assert notify.send_due()["sent"] == 0
    assert len(mailbox.messages) == 1 and outbox(raw_sql)[0].sent_at is not None


def test_a_retry_after_one_was_sent_does_not_send_it_again(app, family, informed, api, week_lessons, mailbox,
                                                           raw_sql):
    """Two guardians of a column; the server refuses the second: the job is retried, and the
    first, sent on the first attempt, is never sent again."""
    informed(0)
    informed(1)
    mailbox.refuse.add("parent1@example.ru")
    lesson = lesson_of(family, week_lessons)
    response = api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades", json={"grades": [
        {"pupil_id": family["child"], "value": "5", "work_type": "У", "version": None},
        {"pupil_id": family["own"], "value": "4", "work_type": "У", "version": None}]})
    assert response.status_code == 200, response.json
    assert len(mailbox.to("parent0@example.ru")) == 1 and mailbox.to("parent1@example.ru") == []
    attempts = {r.guardian_id: r.attempts for r in outbox(raw_sql)}
    assert attempts[family["first"]["guardian_ids"][0]] == 1 and attempts[family["first"]["guardian_ids"][1]] > 1
    mailbox.refuse.clear()
    with app.test_request_context():
        from blueprints.diary import notify
        from core.tenancy import unscoped

        with unscoped("test: the periodic sweep", platform=True):
            assert notify.send_due()["sent"] == 1
    assert len(mailbox.to("parent0@example.ru")) == 1 and len(mailbox.to("parent1@example.ru")) == 1


def test_after_the_last_attempt_the_notification_is_given_up(app, family, informed, api, week_lessons, mailbox,
                                                             raw_sql, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    informed(0)
    mailbox.down = True
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    row = outbox(raw_sql)[0]
    assert row.failed_at is not None and row.attempts == 3 and row.sent_at is None
    mailbox.down = False
    with app.test_request_context():
        from blueprints.diary import notify
        from core.tenancy import unscoped

        with unscoped("test: the periodic sweep", platform=True):
            assert notify.send_due()["sent"] == 0
    assert mailbox.messages == []


def test_a_digest_goes_once_a_day_at_the_guardians_local_hour(app, family, informed, api, week_lessons, mailbox,
                                                              app_clock, raw_sql):
    """SCHOOL_DAY is 07:00 UTC, 10:00 in the school's Moscow time; the digest hour is 19."""
    informed(0, notify_mode="digest", digest_hour=19)
    lessons = week_lessons(family["first"], family["first"]["teacher_id"])
    grade(api, family["teacher"], lessons[0], family["child"], "5")
    grade(api, family["teacher"], lessons[1], family["child"], "3", work_type="КР")
    assert mailbox.messages == [] and raw_sql("SELECT count(*) AS n FROM job WHERE kind = 'diary_notify'")[0].n == 0
    from blueprints.diary import notify
    from core.tenancy import unscoped

    def sweep():
        with app.test_request_context(), unscoped("test: the periodic sweep", platform=True):
            return notify.send_due()

    assert sweep()["sent"] == 0  # not yet 19:00 in Moscow
    app_clock.advance(hours=8, minutes=55)  # 18:55 Moscow time
    assert sweep()["sent"] == 0
    app_clock.advance(minutes=10)
    assert sweep()["sent"] == 1 and sweep()["sent"] == 0
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["Subject"] == "Дневник за 18 ноября: новых записей — 2"
    body = message.get_content()
    assert "оценка 5 (отлично)" in body and "оценка 3 (удовлетворительно)" in body and "контрольная работа" in body


def test_sms_through_the_http_provider_once_even_after_a_gateway_error(app, family, informed, api, week_lessons,
                                                                       sms_gateway, raw_sql):
    informed(0, channels=["web", "sms"], phone="+7 912 345-67-89", email=None)
    sms_gateway.answers = [500, 200]
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    assert len(sms_gateway.received) == 2  # the first answered 500, the job's retry got 200
    sent = sms_gateway.received[-1]
    assert sent["auth"] == "Bearer gateway-token" and sent["body"]["to"] == "+79123456789"
    assert "Ученик000 Иван: оценка 5 (отлично) по предмету «Математика»" in sent["body"]["text"]
    assert sent["body"]["id"] == sms_gateway.received[0]["body"]["id"]  # the same key: a gateway may deduplicate
    with app.test_request_context():
        from blueprints.diary import notify
        from core.tenancy import unscoped

        with unscoped("test: the periodic sweep", platform=True):
            assert notify.send_due()["sent"] == 0
    assert len(sms_gateway.received) == 2 and outbox(raw_sql)[0].sent_at is not None


def test_sms_in_development_goes_to_a_file(app, family, informed, api, week_lessons, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "file")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    informed(0, channels=["sms"], phone="89123456789", email=None)
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "2")
    lines = (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["to"] == "+79123456789" and "2 (неудовлетворительно)" in entry["text"]


def test_without_a_mail_server_messages_go_to_the_development_mailbox(app, family, informed, api, week_lessons,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    informed(0)
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    files = list((tmp_path / "mailbox").glob("*.eml"))
    assert len(files) == 1
    import email
    import email.policy

    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"].startswith("Новая оценка: Ученик000 Иван")


def test_a_withdrawn_choice_sends_nothing(app, family, informed, api, week_lessons, mailbox, raw_sql):
    informed(0, notify_mode="digest", digest_hour=19)
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    informed(0, channels=["web"], email=None, notify_mode="digest", digest_hour=19)
    from blueprints.diary import notify
    from core.tenancy import unscoped
    from core import clock
    import datetime as dt

    with clock.fixed(clock.now() + dt.timedelta(hours=10)), app.test_request_context(), \
            unscoped("test: the periodic sweep", platform=True):
        assert notify.send_due()["sent"] == 0
    assert mailbox.messages == [] and outbox(raw_sql)[0].failed_at is not None


def test_the_demo_guardian_gets_an_email_when_teacher12_types_a_grade(app, client, tmp_path, monkeypatch, raw_sql):
    """The issue's walk-through: parent12 chose e-mail and the web; the demo's own journal sent
    nothing; a grade teacher12 enters lands in the development mailbox."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    guardian = raw_sql("SELECT g.id, g.by_web, g.by_email, g.by_sms, g.by_paper, g.email, g.application_number "
                       "FROM guardian g JOIN \"user\" u ON u.id = g.user_id WHERE u.login = 'parent12'")[0]
    assert (guardian.by_web, guardian.by_email, guardian.by_sms, guardian.by_paper) == (True, True, False, False)
    assert guardian.application_number and guardian.email
    assert raw_sql("SELECT count(*) AS n FROM notification")[0].n == 0
    # The school's paper list (IN-2): three families of the daughter's class, or as many as the
    # test's small demo (two pupils a class, each with one or two guardians) has.
    others = raw_sql("SELECT count(DISTINCT l.guardian_id) AS n FROM guardian_link l JOIN enrolment e "
                     "ON e.pupil_id = l.pupil_id WHERE l.guardian_id != :g AND e.class_id = (SELECT e2.class_id "
                     "FROM enrolment e2 JOIN pupil p ON p.id = e2.pupil_id JOIN \"user\" u ON u.id = p.user_id "
                     "WHERE u.login = 'pupil12' LIMIT 1)", g=guardian.id)[0].n
    paper = raw_sql("SELECT count(*) AS n FROM guardian WHERE by_paper")[0].n
    assert paper == min(3, others) and paper >= 1
    login = client.post("/api/v1/auth/token", json={"login": "teacher12", "password": "demo12345"})
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    pupil = raw_sql("SELECT p.id FROM pupil p JOIN \"user\" u ON u.id = p.user_id WHERE u.login = 'pupil12'")[0].id
    lessons = raw_sql("SELECT l.id FROM lesson l JOIN enrolment e ON e.class_id = l.class_id JOIN staff s "
                      "ON s.id = l.teacher_id JOIN \"user\" u ON u.id = s.user_id WHERE e.pupil_id = :p "
                      "AND u.login = 'teacher12' AND l.held_on <= '2026-11-18' ORDER BY l.held_on DESC", p=pupil)
    for lesson in lessons:
        answer = client.put(f"/api/v1/lessons/{lesson.id}/grades/{pupil}", headers=headers,
                            json={"value": "5", "work_type": "ПР", "version": None})
        if answer.status_code == 200:
            break
    assert answer.status_code == 200, answer.json
    files = list((tmp_path / "mailbox").glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_bytes().decode("utf-8", "replace")
    assert guardian.email in text


def test_the_school_admin_sees_what_was_not_delivered(app, family, informed, api, week_lessons, mailbox, login,
                                                      region_tree, monkeypatch, count_queries):
    """An SMTP server that is down: the school's admins see the notification waiting, then
    given up after the last attempt, in words; teachers may not, another region's admin gets 404."""
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    informed(0)
    informed(1)
    mailbox.refuse.add("parent1@example.ru")
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["child"], "5")
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["own"], "4")
    school = family["a"]["school"]["id"]
    http = login(app.test_client(), family["a"]["school_admin"])
    http.get(f"/schools/{school}/notifications")  # the worker keeps the signed-in identity once
    with count_queries() as one:
        page = http.get(f"/schools/{school}/notifications").get_data(as_text=True)
    assert "Писем и SMS родителям отправлено сегодня: 1." in page
    assert "Родитель001 Ольга" in page and "Не доставлено после 3 попыток" in page and "Эл. почта: оценка, Математика" in page
    main = page[page.index("<main"):]  # (the asset fingerprints in the head are hex)
    assert "Родитель000" not in main and "550" not in main  # the delivered one; no server codes
    informed(2)
    mailbox.refuse.add("parent2@example.ru")
    grade(api, family["teacher"], lesson_of(family, week_lessons), family["stranger"], "3")
    http.get(f"/schools/{school}/notifications")  # a guardian's record changed: the kept identity is read anew once
    with count_queries() as two:
        more = http.get(f"/schools/{school}/notifications").get_data(as_text=True)
    assert "Родитель002 Ольга" in more and "Родитель001 Ольга" in more
    assert two.count == one.count  # a fixed number of statements whatever the rows
    assert f"/schools/{school}/notifications" in http.get(f"/schools/{school}/guardians").get_data(as_text=True)
    assert login(app.test_client(), family["teacher"]).get(f"/schools/{school}/notifications").status_code == 403
    other = login(app.test_client(), region_tree["b"]["school_admin"])
    assert other.get(f"/schools/{school}/notifications").status_code == 404


def test_a_teachers_message_reaches_the_guardian_and_a_guardians_does_not_echo(family, informed, api, mailbox):
    """Issue #14, item 6: a teacher's answer in a thread is told as a grade is; the guardian's
    own message is not sent back to them."""
    informed(0)
    teacher_id = family["first"]["teacher_id"]
    thread = api(family["guardian"], "POST", f"/api/v1/pupils/{family['child']}/threads",
                 json={"teacher_id": teacher_id, "text": "Можно пересдать контрольную?"}).get_json()["id"]
    assert mailbox.messages == []
    assert api(family["teacher"], "POST", f"/api/v1/threads/{thread}/messages",
               json={"text": "Да, в четверг после уроков."}).status_code == 201
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["Subject"] == "Сообщение от учителя Морозова А. С.: Ученик000 Иван"
    assert "Ученик000 Иван: сообщение от Морозова А. С.: Да, в четверг после уроков." in message.get_content()


def test_the_guardians_app_reads_how_they_are_informed_and_nobody_else_does(family, informed, api):
    """IN-1 in the mobile API: the choice the school recorded, for the guardian themself."""
    informed(0, channels=["web", "email", "sms"], phone="+7 912 345-67-89")
    mine = api(family["guardian"], "GET", f"/api/v1/pupils/{family['child']}/informing")
    assert mine.status_code == 200
    body = mine.get_json()
    assert body["channels"] == ["web", "email", "sms"] and body["application_number"] == "17"
    assert api(family["other_guardian"], "GET", f"/api/v1/pupils/{family['child']}/informing").status_code == 404
    assert api(family["pupil"], "GET", f"/api/v1/pupils/{family['own']}/informing").status_code == 404
