"""The raw-SQL baseline of bench/diary.py: a pupil's week as JSON from PostgreSQL with
psycopg, no ORM, no sign-in, no tenant scope, no ETag, no translation: what the diary's
week would cost if it were only its data. Served by gunicorn like the app:

    BASELINE_DATABASE=postgresql://... gunicorn -w 2 bench.diary_baseline:app

GET /week?pupil=<id>&monday=YYYY-MM-DD answers the diary's week (the days and lessons with
topics, homework, the pupil's grades, attendance and remarks) in the same shape."""
import datetime as dt
import json
import os

import psycopg

_conn = None

LESSONS = """
SELECT l.id, l.held_on, l.period, l.starts_at, l.ends_at, s.name, st.last_name, st.first_name, st.middle_name,
       l.room, l.subgroup, l.is_cancelled, r.topic, r.homework, r.no_homework, r.attendance_at
FROM lesson l
JOIN enrolment e ON e.class_id = l.class_id AND e.pupil_id = %(pupil)s AND l.held_on >= e.from_on
     AND (e.to_on IS NULL OR l.held_on <= e.to_on)
LEFT JOIN lesson_record r ON r.lesson_id = l.id
JOIN subject s ON s.id = l.subject_id
LEFT JOIN staff st ON st.id = COALESCE(r.substitute_id, l.teacher_id)
WHERE l.held_on BETWEEN %(monday)s AND %(sunday)s
ORDER BY l.held_on, l.period, l.subgroup"""
GRADES = "SELECT lesson_id, value, work_type, comment FROM grade WHERE pupil_id = %s AND lesson_id = ANY(%s) ORDER BY id"
ABSENT = "SELECT lesson_id, status FROM attendance WHERE pupil_id = %s AND lesson_id = ANY(%s)"
REMARKS = "SELECT lesson_id, kind, text FROM remark WHERE pupil_id = %s AND lesson_id = ANY(%s) ORDER BY id"


def connection():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BASELINE_DATABASE"], autocommit=True)
    return _conn


def week(pupil: int, monday: dt.date) -> dict:
    conn = connection()
    rows = conn.execute(LESSONS, {"pupil": pupil, "monday": monday, "sunday": monday + dt.timedelta(days=6)}).fetchall()
    ids = [row[0] for row in rows]
    grades, absent, remarks = {}, {}, {}
    for lesson, value, work, comment in conn.execute(GRADES, (pupil, ids)):
        grades.setdefault(lesson, []).append({"value": value, "work_type": work, "comment": comment})
    for lesson, status in conn.execute(ABSENT, (pupil, ids)):
        absent[lesson] = status
    for lesson, kind, text in conn.execute(REMARKS, (pupil, ids)):
        remarks.setdefault(lesson, []).append({"kind": kind, "text": text})
    days = {monday + dt.timedelta(days=n): [] for n in range(5)}
    for (lesson, held_on, period, starts, ends, subject, last, first, middle, room, subgroup, cancelled,
         topic, homework, no_homework, taken) in rows:
        teacher = f"{last} {''.join(f'{p[0]}.' for p in (first, middle) if p)}".strip() if last else None
        days.setdefault(held_on, []).append({
            "id": lesson, "period": period, "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
            "subject": subject, "teacher": teacher, "room": room, "subgroup": subgroup or None,
            "is_cancelled": cancelled, "topic": topic, "homework": homework, "no_homework": bool(no_homework),
            "attendance": absent.get(lesson, "present" if taken else None),
            "grades": grades.get(lesson, []), "remarks": remarks.get(lesson, [])})
    return {"pupil_id": pupil, "days": [{"date": day.isoformat(), "lessons": days[day]} for day in sorted(days)]}


def app(environ, start_response):
    from urllib.parse import parse_qs

    query = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("PATH_INFO") == "/healthz":
        body = b"ok"
    else:
        body = json.dumps(week(int(query["pupil"][0]), dt.date.fromisoformat(query["monday"][0])),
                          ensure_ascii=False).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
