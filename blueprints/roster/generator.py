"""Synthetic school data: the demo's schools and the benchmarks' larger sets.

``populate_school`` gives a school a current academic year, a bell schedule, staff,
classes 1-11, pupils with guardians, assignments, a weekly timetable and the current
term's lessons. Names are drawn from Russian name lists with a seeded generator, so the
same seed gives the same school. ``bench/generate.py`` is its command line."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from core import clock
from core.extensions import db
from blueprints.roster import academic_years, schedule, school_classes, teaching
from blueprints.roster.models import Guardian, GuardianLink, Pupil, Subject
from tenants.models import Tenant

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
            "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
            "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
            "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов"]
MALE = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл", "Михаил",
        "Никита", "Матвей", "Роман", "Егор", "Иван", "Тимофей", "Даниил", "Павел"]
FEMALE = ["Анастасия", "Мария", "Анна", "Виктория", "Екатерина", "Дарья", "Полина", "Алиса", "Софья",
          "Ксения", "Елизавета", "Вероника", "Ольга", "Наталья", "Елена", "Татьяна"]
PATRONYMIC_ROOTS = ["Александров", "Дмитриев", "Сергеев", "Андреев", "Алексеев", "Михайлов", "Иванов", "Петров",
                    "Николаев", "Владимиров"]
# (subject, short name, weekly lessons in grades 1-4, 5-9, 10-11)
CURRICULUM = [
    ("Русский язык", "Рус. яз.", 5, 5, 2), ("Литературное чтение", "Чтение", 4, 0, 0),
    ("Литература", "Лит-ра", 0, 2, 3), ("Математика", "Матем.", 4, 5, 0), ("Алгебра", "Алгебра", 0, 0, 3),
    ("Геометрия", "Геом.", 0, 0, 2), ("Окружающий мир", "Окр. мир", 2, 0, 0), ("Английский язык", "Англ. яз.", 2, 3, 3),
    ("История", "История", 0, 2, 2), ("Обществознание", "Общество", 0, 1, 2), ("География", "Геогр.", 0, 2, 1),
    ("Биология", "Биол.", 0, 2, 1), ("Физика", "Физика", 0, 2, 3), ("Химия", "Химия", 0, 2, 2),
    ("Информатика", "Информ.", 0, 1, 1), ("Физическая культура", "Физ-ра", 2, 2, 2), ("Музыка", "Музыка", 1, 1, 0),
    ("Изобразительное искусство", "ИЗО", 1, 1, 0), ("Технология", "Технол.", 1, 1, 0),
]
BELLS = [(1, "08:30", "09:15"), (2, "09:25", "10:10"), (3, "10:30", "11:15"), (4, "11:35", "12:20"),
         (5, "12:30", "13:15"), (6, "13:25", "14:10"), (7, "14:20", "15:05")]


def _person(rng, female=None):
    female = rng.random() < 0.5 if female is None else female
    surname = rng.choice(SURNAMES) + ("а" if female else "")
    first = rng.choice(FEMALE if female else MALE)
    patronymic = rng.choice(PATRONYMIC_ROOTS) + ("на" if female else "ич")
    return surname, first, patronymic


def _hours(level, row):
    return row[2] if level <= 4 else row[3] if level <= 9 else row[4]


def regional_subjects(region: Tenant) -> dict[str, Subject]:
    """The region's subject list, created once."""
    existing = {s.name: s for s in db.session.execute(select(Subject).where(Subject.tenant_id == region.id)).scalars()}
    for name, short, *_ in CURRICULUM:
        if name not in existing:
            existing[name] = Subject(tenant_id=region.id, name=name, short_name=short)
            db.session.add(existing[name])
    db.session.flush()
    return existing


def populate_school(school: Tenant, *, pupils_per_class=25, letters=("а",), seed=None, lessons=True,
                    today: dt.date | None = None) -> dict:
    """Fill a school with a current year of data. Returns counts."""
    rng = random.Random(seed if seed is not None else school.id)
    today = today or clock.today()
    region = db.session.execute(select(Tenant).where(Tenant.id == school.path_ids[0])).scalar_one()
    subjects = regional_subjects(region)
    start_year = today.year if today.month >= 9 else today.year - 1
    year = academic_years.current_year(school, today) or academic_years.create_year(school, start_year)
    schedule.set_bell_schedule(school, [(n, dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for n, a, b in BELLS])
    owned = {"tenant_id": school.id, "region_id": region.id}

    # Staff: a primary teacher per primary class, a subject teacher per subject (two for the big ones).
    teachers = {}
    staff_count = 0

    def hire(position):
        nonlocal staff_count
        staff_count += 1
        surname, first, patronymic = _person(rng, female=rng.random() < 0.8)
        row, _created = teaching.upsert_staff(school, last_name=surname, first_name=first, middle_name=patronymic,
                                              position=position, login=f"t{school.id}-{staff_count}")
        return row

    classes = []
    for grade in range(1, 12):
        for letter in letters:
            school_class = school_classes.create_class(year, grade, letter)
            classes.append(school_class)
            if grade <= 4:
                teachers[("primary", school_class.id)] = hire("учитель начальных классов")
    for name, *_ in CURRICULUM:
        teachers[name] = [hire(f"учитель ({name.lower()})") for _ in range(2 if name in ("Русский язык", "Математика") else 1)]
    for school_class in classes:
        if school_class.grade <= 4:
            school_class.class_teacher_id = teachers[("primary", school_class.id)].id

    # Pupils with one or two guardians each.
    pupils = guardians = 0
    for school_class in classes:
        born = year.starts_on.year - school_class.grade - 6
        for _ in range(pupils_per_class):
            surname, first, patronymic = _person(rng)
            pupils += 1
            pupil = Pupil(last_name=surname, first_name=first, middle_name=patronymic,
                          birth_date=dt.date(born, rng.randint(1, 12), rng.randint(1, 28)),
                          file_number=f"{school.id}-{year.starts_on.year}-{pupils:05d}", **owned)
            db.session.add(pupil)
            db.session.flush()
            school_classes.enrol(pupil, school_class, year.starts_on)
            for mother in (True, False)[: rng.choice((1, 2, 2))]:
                g_surname, g_first, g_patronymic = _person(rng, female=mother)
                guardian = Guardian(last_name=g_surname, first_name=g_first, middle_name=g_patronymic,
                                    phone=f"+79{rng.randint(100000000, 999999999)}", **owned)
                db.session.add(guardian)
                db.session.flush()
                db.session.add(GuardianLink(pupil_id=pupil.id, guardian_id=guardian.id,
                                            relation="мать" if mother else "отец", **owned))
                guardians += 1

    # Timetable: place each subject's weekly lessons in free slots of the class and teacher.
    busy_teacher, entries = set(), 0
    for school_class in classes:
        per_day = 4 if school_class.grade <= 4 else 6 if school_class.grade <= 6 else 7
        free = [(d, p) for p in range(1, per_day + 1) for d in range(1, 6)]
        for row in CURRICULUM:
            for _ in range(_hours(school_class.grade, row)):
                if school_class.grade <= 4 and row[0] not in ("Английский язык", "Физическая культура", "Музыка"):
                    candidates = [teachers[("primary", school_class.id)]]
                else:
                    candidates = teachers[row[0]]
                slot = next(((d, p, t) for d, p in free for t in candidates if (d, p, t.id) not in busy_teacher), None)
                if slot is None:
                    continue
                day, period, teacher = slot
                free.remove((day, period))
                busy_teacher.add((day, period, teacher.id))
                schedule.add_timetable_entry(year, weekday=day, period=period, school_class=school_class,
                                             subject=subjects[row[0]], teacher=teacher,
                                             room=str(100 + school_class.grade))
                entries += 1
    added = 0
    if lessons:
        for term in academic_years.terms_of(year):
            if term.starts_on <= today <= term.ends_on or (today < term.starts_on and term.number == 1):
                added += schedule.generate_lessons(term)
    db.session.flush()
    return {"classes": len(classes), "pupils": pupils, "guardians": guardians, "staff": staff_count,
            "timetable": entries, "lessons": added}
