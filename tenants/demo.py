"""The demo tenants, taken from the source documents (../shared/seeds/)."""
from datetime import date

from flask import current_app, g
from sqlalchemy import func, select

from core import audit
from core.accounts import service as accounts
from core.extensions import db
from core.tenancy import unscoped
from tenants import service
from tenants.models import Tenant

# (name, short name, time zone or None, children)
TREE = [
    ("Мурманская область", "Мурманская обл.", "Europe/Moscow", [
        ("г. Кировск", "Кировск", None, [
            ("МБОУ «СОШ № 2 г. Кировска»", "СОШ № 2", "https://school2.kirovsk.example"),
            ("МБОУ «СОШ № 5 г. Кировска»", "СОШ № 5", "https://school5.kirovsk.example"),
            ("МБОУ «СОШ № 7 г. Кировска»", "СОШ № 7", "https://school7.kirovsk.example"),
            ("МБОУ «ООШ № 8 г. Кировска»", "ООШ № 8", "https://school8.kirovsk.example"),
            ("МБОУ «СОШ № 10 г. Кировска»", "СОШ № 10", "https://school10.kirovsk.example"),
            ("МБОУ «Хибинская гимназия»", "Хибинская гимназия", "https://gymnasium.kirovsk.example"),
        ]),
        ("г. Апатиты", "Апатиты", None, []),
        ("г. Мончегорск", "Мончегорск", None, []),
    ]),
    ("Пермский край", "Пермский край", "Asia/Yekaterinburg", [
        ("г. Пермь", "Пермь", None, [
            ("МАОУ «Средняя общеобразовательная школа № 12»", "МАОУ СОШ № 12", "https://school12.perm.example"),
        ]),
    ]),
    ("Свердловская область", "Свердловская обл.", "Asia/Yekaterinburg", [
        ("г. Каменск-Уральский", "Каменск-Уральский", None, [
            ("МБОУ «Средняя общеобразовательная школа № 31»", "СОШ № 31", "https://school31.kamensk.example"),
        ]),
    ]),
    ("Томская область", "Томская обл.", "Asia/Tomsk", []),
]

# Seed 003: order No. 189 of 05.06.2017 of school No. 12 (Perm): DL-1..3, PR-1 quarterly
# printing for grades 1-9, summary sheets by levels 1-4 and 5-9 (PR-3), paper every 2 weeks
# (IN-2), results within 3 days (DL-4).
PERM_12_ACT = "Приказ МАОУ СОШ № 12 № 189 от 05.06.2017"
PERM_12_VALUES = {
    "deadlines": {
        "topic": {"rule": "end_of_lesson_day"},
        "attendance": {"rule": "end_of_lesson_day"},
        "homework": {"rule": "after_last_lesson", "hours": 1},
        "grade": {"oral": {"days": 1, "levels": [2, 9]}, "written": {"days": 3, "levels": [2, 9]}},
        "results_visible_days": 3,
    },
    "printing": {"periods": [{"levels": [1, 9], "every": "quarter"}],
                 "summary_level_groups": [[1, 4], [5, 9]]},
    "informing": {"paper_interval_days": 14, "parent_checks_per_week": 2},
}
# Seed 001: school No. 31 (Kamensk-Uralsky) prints the whole journal at year end.
SCHOOL_31_ACT = "Приказ директора Средней школы № 31 от 01.04.2015 № 39/1"
SCHOOL_31_VALUES = {"printing": {"periods": [{"levels": [1, 11], "every": "year"}]}}
# Seed 002: the Murmansk ministry keeps journals 5 years and final marks 25 years (RT-1).
MURMANSK_ACT = "Региональная система «Электронная школа», Министерство образования и науки Мурманской области, 2015"
MURMANSK_VALUES = {"retention": {"journal_years": 5, "final_marks_years": 25}}

ACCOUNTS = [
    # (login, full name, role, tenant short name)
    ("admin", "Администратор платформы", "platform_admin", None),
    ("murmansk", "Иванова Ольга Петровна", "region_admin", "Мурманская обл."),
    ("perm", "Смирнов Андрей Викторович", "region_admin", "Пермский край"),
    ("kirovsk", "Кузнецова Елена Ивановна", "municipality_admin", "Кировск"),
    ("school10", "Попов Сергей Николаевич", "school_admin", "СОШ № 10"),
    ("school12", "Васильева Наталья Юрьевна", "school_admin", "МАОУ СОШ № 12"),
    ("teacher12", "Морозова Анна Сергеевна", "teacher", "МАОУ СОШ № 12"),
    ("parent12", "Новиков Дмитрий Алексеевич", "guardian", "МАОУ СОШ № 12"),
    ("pupil12", "Новикова Мария", "pupil", "МАОУ СОШ № 12"),
]


def is_empty() -> bool:
    with unscoped("demo: is the database empty", routine=True):
        return db.session.execute(select(func.count()).select_from(Tenant)).scalar_one() == 0


def load(password: str | None = None) -> list[tuple[str, str, str]]:
    """Create the demo tenants and one account per role; returns (login, role, tenant)."""
    password = password or current_app.config["DEMO_PASSWORD"]
    created = {}
    with unscoped("demo: load the demo tenants", platform=True):
        for region in TREE:
            _create(region, None, created)
        service_versions = [
            (created["Пермский край"].children["Пермь"].children["МАОУ СОШ № 12"], date(2017, 9, 1),
             PERM_12_ACT, PERM_12_VALUES),
            (created["Свердловская обл."].children["Каменск-Уральский"].children["СОШ № 31"], date(2015, 4, 1),
             SCHOOL_31_ACT, SCHOOL_31_VALUES),
            (created["Мурманская обл."], date(2015, 9, 1), MURMANSK_ACT, MURMANSK_VALUES),
        ]
        for node, on, act, values in service_versions:
            service.add_version(node.tenant, effective_from=on, act=act, values=values)
        by_short = {}
        for node in _walk(created.values()):
            by_short[node.tenant.short_name] = node.tenant
        logins = []
        for login, full_name, role, short in ACCOUNTS:
            user = accounts.create_user(login=login, password=password, full_name=full_name)
            tenant = by_short.get(short)
            accounts.grant(user, role=role, tenant_id=tenant.id if tenant else None,
                           tenant_path=tenant.path if tenant else None,
                           tenant_kind=tenant.kind if tenant else None, by=g.membership, reason="demo")
            logins.append((login, role, tenant.name if tenant else "—"))
    return logins


class _Node:
    def __init__(self, tenant):
        self.tenant, self.children = tenant, {}


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children.values())


def _create(spec, parent, created):
    name, short, extra, children = spec
    kind = "region" if parent is None else ("municipality" if parent.tenant.kind == "region" else "school")
    tenant = Tenant(kind=kind, name=name, short_name=short, slug=service.slugify(short),
                    parent_id=parent.tenant.id if parent else None, depth=(parent.tenant.depth + 1) if parent else 0,
                    timezone=extra if kind == "region" else None,
                    website_url=extra if kind == "school" else None, is_active=True, path="")
    db.session.add(tenant)
    db.session.flush()
    tenant.path = f"{parent.tenant.path if parent else '/'}{tenant.id}/"
    audit.record(tenant_id=tenant.id, action="tenant.create", obj_type="tenant", obj_id=tenant.id,
                 after=service.snapshot(tenant), reason="demo")
    node = _Node(tenant)
    (parent.children if parent else created)[short] = node
    for child in children:
        _create(child if len(child) == 4 else (*child, []), node, created)
