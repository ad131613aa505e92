"""The journal page's read model: one class, subject and term as pupils by lessons, read
in a fixed number of statements, turned into a ready HTML table in one pass, and kept per
worker under a key of everything it shows (the chain's change stamps among them)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from core.errors import NotAllowed
from core.lru import Lru
from core.extensions import db
from blueprints.journal.context import Actor
from blueprints.journal.models import Attendance, Grade, LessonRecord
from blueprints.roster import academic_years, service as roster
from blueprints.roster.models import Enrolment, Lesson, Pupil, SchoolClass, Staff, Term
from tenants import service as tenants


@dataclass
class _RecordRow:
    topic: str | None
    substitute_id: int | None


@dataclass
class Grid:
    """The journal page of one class, subject and term: pupils by lessons."""

    school_class: SchoolClass
    subject: object
    term: Term
    lessons: list
    pupils: list
    grades: dict  # (lesson_id, pupil_id) -> [Grade]
    absences: dict  # (lesson_id, pupil_id) -> Attendance
    records: dict  # lesson_id -> LessonRecord
    work_types: list
    scale: list
    can_write: set  # lesson ids the user may write
    today: dt.date
    ahead_allowed: bool = False  # grades and absences before the lesson's day (DL-2)


def grid(school, school_class: SchoolClass, subject, term: Term, today: dt.date, staff_id: int | None) -> Grid:
    """Everything the page shows on ``today`` (the school's date) to the reader whose staff
    id is given (None: not a teacher of the school), in a fixed number of queries whatever
    the class size and the number of lessons: the lessons with their records, the pupils,
    and the grades and absences together. Called by :func:`grid_table`, which checks access."""
    from sqlalchemy import literal, null, union_all

    lesson_rows = db.session.execute(
        select(Lesson, LessonRecord.topic, LessonRecord.substitute_id)
        .outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
        .where(Lesson.class_id == school_class.id, Lesson.subject_id == subject.id, Lesson.term_id == term.id,
               Lesson.is_cancelled.is_(False)).order_by(Lesson.held_on, Lesson.period)).all()
    lessons = [row[0] for row in lesson_rows]
    ids = [l.id for l in lessons]
    pupils = db.session.execute(
        select(Pupil.id, Pupil.last_name, Pupil.first_name, Pupil.birth_date)
        .join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.class_id == school_class.id, Enrolment.to_on.is_(None))
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.birth_date, Pupil.id)).all()
    # Plain rows, not ORM objects: the page has about a thousand cells.
    grades, absences = {}, {}
    if ids:
        marks = select(Grade.lesson_id, Grade.pupil_id, Grade.value, Grade.work_type, Grade.is_late,
                       Grade.version).where(Grade.lesson_id.in_(ids))
        absent = select(Attendance.lesson_id, Attendance.pupil_id, Attendance.status, null(), literal(False),
                        null()).where(Attendance.lesson_id.in_(ids))
        for row in db.session.execute(union_all(marks, absent)):
            if row[5] is None:
                absences[(row[0], row[1])] = row[2]
            else:
                grades.setdefault((row[0], row[1]), []).append(row)
    records = {lesson.id: _RecordRow(topic, substitute) for lesson, topic, substitute in lesson_rows
               if topic is not None or substitute is not None}
    regulation = tenants.effective(school, today).document
    locked = academic_years.period_closed(term.ends_on, regulation, today)
    writable = set()
    if staff_id is not None and not locked:
        writable = {l.id for l in lessons
                    if staff_id in (l.teacher_id, records[l.id].substitute_id if l.id in records else None)}
    return Grid(school_class, subject, term, lessons, pupils, grades, absences, records,
                regulation["grading"]["work_types"], regulation["grading"]["scale"], writable, today,
                bool(regulation["deadlines"].get("grades_and_absences_ahead")))


GRID_CACHE = "tabel.journal.grids"


@dataclass(frozen=True)
class SubjectRow:
    id: int
    name: str


@dataclass(frozen=True)
class TermRow:
    id: int
    number: int
    starts_on: dt.date
    ends_on: dt.date
    level_from: int
    level_to: int
    kind: str = ""  # quarter, trimester...: the term's name (roster's ``term_name``)


@dataclass(frozen=True)
class GridTable:
    """What the journal page shows: the choice of subject and term, the chosen ones, and
    the table as ready HTML with the scale and work types its keyboard entry needs."""

    subjects: tuple
    terms: tuple
    subject: SubjectRow | None
    term: TermRow | None
    head: str = ""
    body: str = ""
    work_types: tuple = ()
    scale: tuple = ()


def class_choices(school_class: SchoolClass):
    """The class's subjects (those with an assignment) and its grade level's terms, in one
    statement: a kept journal page that must be built again costs one statement less."""
    from sqlalchemy import Date, Integer, cast, literal, literal_column, null, union_all

    from blueprints.roster.models import Assignment, Subject

    number, day = cast(null(), Integer), cast(null(), Date)  # typed: PostgreSQL matches UNION columns by type
    subjects = (select(literal(0).label("kind"), Subject.id.label("id"), Subject.name.label("name"),
                       number.label("number"), day.label("starts_on"), day.label("ends_on"),
                       number.label("level_from"), number.label("level_to"),
                       cast(null(), Term.kind.type).label("term_kind"))
                .join(Assignment, Assignment.subject_id == Subject.id)
                .where(Assignment.class_id == school_class.id).distinct())
    terms = select(literal(1), Term.id, cast(null(), Subject.name.type), Term.number, Term.starts_on, Term.ends_on, Term.level_from,
                   Term.level_to, Term.kind).where(Term.year_id == school_class.year_id)
    rows = db.session.execute(union_all(subjects, terms).order_by(
        literal_column("kind"), literal_column("name"), literal_column("number"))).all()
    return (tuple(SubjectRow(row.id, row.name) for row in rows if row.kind == 0),
            tuple(TermRow(row.id, row.number, _as_date(row.starts_on), _as_date(row.ends_on), row.level_from,
                          row.level_to, row.term_kind)
                  for row in rows if row.kind == 1 and row.level_from <= school_class.grade <= row.level_to))


def _as_date(value):
    """A date column read through a UNION: SQLite hands it back as text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def choose(subjects, terms, subject_id, term_id, today):
    """The requested subject and term, else the first subject and the term running today."""
    subject = next((s_ for s_ in subjects if s_.id == subject_id), subjects[0] if subjects else None)
    term = next((t for t in terms if t.id == term_id), None) or next(
        (t for t in terms if t.starts_on <= today <= t.ends_on), terms[0] if terms else None)
    return subject, term


def grid_table(school_class: SchoolClass, subject_id, term_id, lesson_url: str, *,
               actor: Actor) -> GridTable:
    """The journal page's content, kept per worker and served again while nothing it shows
    can have changed; on a hit the page's data costs one statement.

    The key holds everything the content depends on: the class, subject and term; the
    school's local date (what is missing, whether the period is locked, which term runs);
    the versions of the school's chain (its regulation, time zone); the reader's staff id
    (their writable columns); and the change stamps and audit heads of the chain
    (:mod:`core.changes`), which every committed write to the school's data, or to a tenant
    above it, advances.
    The stamps are read before the data, so nothing is kept under a stamp older than what
    it shows, and nothing made from this transaction's own uncommitted writes is kept."""
    from sqlalchemy import literal

    from core import changes

    school = tenants.load(school_class.tenant_id)
    if not roster.can_read(school):
        raise NotAllowed()
    chain = tenants.chain_of(school)
    today = tenants.local_today(school, chain)
    limit = current_app.config.get("JOURNAL_GRID_CACHE_SIZE", 512)
    cache = current_app.extensions.setdefault(GRID_CACHE, Lru()) if limit else Lru()
    reader = []
    if actor.is_teacher:
        # The reader's staff id rides along, filtered by the school the scope let us load.
        reader.append(select(literal(2), literal(school.id), Staff.id).where(
            Staff.tenant_id == school.id, Staff.user_id == actor.user_id))
    found = changes.read_stamp_rows([t.id for t in chain], *reader,
                                    reason="journal: change stamps and audit heads of the school's chain")
    base = (school_class.id, today, tuple((t.id, t.version) for t in chain), found)

    def keep(key, value):
        if limit and not changes.pending(db.session):
            cache.put(key, value, limit)
        return value

    choices = cache.get(("choices", base)) or keep(("choices", base), class_choices(school_class))
    subject, term = choose(*choices, subject_id, term_id, today)
    if subject is None or term is None:
        return GridTable(*choices, subject, term)
    key = ("table", base, subject.id, term.id, lesson_url)  # no text in a language: kept for every reader
    table = cache.get(key)
    if table is None:
        staff_id = next((value for kind, _tenant, value in found if kind == 2), None)
        data = grid(school, school_class, subject, term, today, staff_id)  # the key's date, also across midnight
        table = keep(key, GridTable(*choices, subject, term, *grid_html(data, lesson_url),
                                    tuple(data.work_types), tuple(data.scale)))
    return table


#: How the grid writes each attendance mark: the paper journal's letters (absent, came
#: late, ill, excused). The touch pad offers the first three; an excused absence needs its
#: reason, which the lesson page asks for.
ABSENCE_MARKS = {"absent": "н", "late": "оп", "ill": "б", "excused": "уп"}


def attribute_json(value) -> str:
    """``value`` as JSON for a single-quoted HTML attribute: letters as they are (Cyrillic
    escaped as ``\\uXXXX`` would take three times the bytes), ``&'<>`` escaped."""
    import json

    from markupsafe import Markup

    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("&", "\\u0026").replace("'", "\\u0027").replace("<", "\\u003c")
                  .replace(">", "\\u003e"))


def pupil_labels(pupils) -> dict:
    """Each pupil's name as the grid shows it, ``{pupil_id: (name, suffix)}``: «Зайцев Егор»,
    and for two pupils of the same name a suffix that tells them apart, their birth date
    («12.03.2014»), or where that is the same too, also their place in the list («12.03.2014, 2»)."""
    from collections import Counter

    names = Counter((last, first) for _id, last, first, _born in pupils)
    born = Counter((last, first, birth) for _id, last, first, birth in pupils)
    seen, out = Counter(), {}
    for pupil_id, last, first, birth in pupils:
        name, suffix = f"{last} {first}", ""
        if names[(last, first)] > 1:
            suffix = f"{birth:%d.%m.%Y}" if birth is not None else ""
            if born[(last, first, birth)] > 1:
                seen[(last, first, birth)] += 1
                suffix = f"{suffix}, {seen[(last, first, birth)]}" if suffix else str(seen[(last, first, birth)])
        out[pupil_id] = (name, suffix)
    return out


def now_lesson(lessons, today: dt.date):
    """The lesson the page opens on: today's (the last of today's), else the latest held
    before today, else the term's first."""
    held = [lesson for lesson in lessons if lesson.held_on <= today]
    return held[-1] if held else (lessons[0] if lessons else None)


def grid_html(data: Grid, lesson_url: str):
    """The table's header and body as ready HTML, built in one pass: the page has about a
    thousand cells, which a template would render one call at a time. ``lesson_url`` is
    the lesson page's address with ``{}`` for the id. Every value is escaped once.

    What the page's script says about a cell comes from data attributes, never from a
    header's text (which holds the work-type choice): a column's date (``data-d``), a
    namesake's row (``data-n``: the name with what tells two pupils of one name apart; any
    other row header holds the name alone), a grade (``data-v``, ``data-t``); a cell with
    no grade and an absence mark of :data:`ABSENCE_MARKS` is that absence."""
    from markupsafe import Markup, escape

    memo = {}

    def esc(value):
        if value not in memo:
            memo[value] = str(escape(value))
        return memo[value]

    now = now_lesson(data.lessons, data.today)
    # DL-2: a lesson after the school's today takes no grades or absences (unless the
    # regulation allows them ahead); its header and cells say so with ``data-ahead="1"``,
    # which the page's script and styles read to leave them unmarkable.
    ahead = set() if data.ahead_allowed else {lesson.id for lesson in data.lessons if lesson.held_on > data.today}
    head = []
    for lesson in data.lessons:
        record = data.records.get(lesson.id)
        topic = record.topic if record is not None else None
        attrs = ' data-w="1"' if lesson.id in data.can_write else ""
        if lesson is now:
            attrs += ' data-now="1"'
        if lesson.id in ahead:
            attrs += ' data-ahead="1"'
        if lesson.held_on <= data.today and not topic:
            attrs += ' class="missing"'
        day = f"{lesson.held_on:%d.%m}"
        # The topic, where there is one; a held lesson without one is marked (class
        # "missing", which the legend names) rather than titled on every such column.
        title = f' title="{escape(topic)}"' if topic else ""
        head.append(f'<th scope="col" data-l="{lesson.id}" data-d="{day}"{attrs}><a href="{lesson_url.format(lesson.id)}"'
                    f'{title}>{day}</a></th>')
    cells = {}
    for key, marks in data.grades.items():
        late = ' class="l"' if any(m.is_late for m in marks) else ""
        if len(marks) == 1:
            mark = marks[0]
            cells[key] = f'<td{late} data-v="{int(mark.version)}" data-t="{esc(mark.work_type)}">{esc(mark.value)}</td>'
        else:
            cells[key] = f"<td{late}>{esc('/'.join(m.value for m in marks))}</td>"
    # An absence is its mark alone: a cell with a grade names it (data-v), so the page's
    # script tells the two apart without a byte more in some hundred cells.
    absent_cells = {status: f"<td>{mark}</td>" for status, mark in ABSENCE_MARKS.items()}
    for key, status in data.absences.items():
        cells[key] = absent_cells.get(status, absent_cells["absent"])
    lesson_ids = [lesson.id for lesson in data.lessons]
    empty = {lesson_id: '<td data-ahead="1"></td>' if lesson_id in ahead else "<td></td>" for lesson_id in lesson_ids}
    for key, cell in cells.items():
        if key[0] in ahead:  # entered while the regulation allowed it
            cells[key] = cell.replace("<td", '<td data-ahead="1"', 1)
    labels = pupil_labels(data.pupils)
    body = []
    for pupil_id, _last, _first, _born in data.pupils:
        name, suffix = labels[pupil_id]
        # A namesake's row says who it is in data-n; any other row header holds the name alone.
        shown = f' data-n="{escape(f"{name} ({suffix})")}"' if suffix else ""
        extra = f" <small>{escape(suffix)}</small>" if suffix else ""
        row = "".join([cells.get((lesson_id, pupil_id)) or empty[lesson_id] for lesson_id in lesson_ids])
        body.append(f'<tr data-p="{pupil_id}"><th scope="row"{shown}>{escape(name)}{extra}</th>{row}</tr>')
    return Markup("".join(head)), Markup("\n".join(body))
