"""Region onboarding: one spreadsheet of municipalities and schools with their admins.

Each row is a municipality or a school. Admins get accounts with one-time sign-in codes
(AC-3). Tenants are matched by name under their parent and admins by login (their e-mail),
so running the same file again creates nothing."""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import tabular
from core.accounts import service as accounts
from core.accounts.models import User
from core.extensions import db
from tenants import service
from tenants.models import Tenant

KIND_WORDS = {"муниципалитет": "municipality", "municipality": "municipality", "школа": "school", "school": "school"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _kind(raw):
    kind = KIND_WORDS.get(str(raw).strip().lower())
    if kind is None:
        raise ValueError(_("Write «муниципалитет» or «школа»."))
    return kind


def _timezone(raw):
    value = str(raw).strip()
    if value not in zoneinfo.available_timezones():
        raise ValueError(_("Unknown time zone: %(tz)s.", tz=value))
    return value


def _url(raw):
    value = str(raw).strip()
    if not re.match(r"^https?://[^\s/]+\.[^\s/]+", value):
        raise ValueError(_("Enter a full address starting with http:// or https://."))
    return value


def _email(raw):
    value = str(raw).strip().lower()
    if not EMAIL.match(value):
        raise ValueError(_("Not an e-mail address: «%(value)s».", value=raw))
    return value


COLUMNS = [
    tabular.Column("Тип", "kind", required=True, parse=_kind, example="школа"),
    tabular.Column("Муниципалитет", "municipality", parse=tabular.parse_text, example="г. Апатиты",
                   max_length=tabular.length_of(Tenant.name)),
    tabular.Column("Полное наименование", "name", required=True, parse=tabular.parse_text,
                   example="МБОУ «СОШ № 3 г. Апатиты»", max_length=tabular.length_of(Tenant.name)),
    tabular.Column("Краткое наименование", "short_name", parse=tabular.parse_text, example="СОШ № 3",
                   max_length=tabular.length_of(Tenant.short_name)),
    tabular.Column("Сайт", "website_url", parse=_url, example="https://school3.apatity.example",
                   max_length=tabular.length_of(Tenant.website_url)),
    tabular.Column("Часовой пояс", "timezone", parse=_timezone, example="Europe/Moscow"),
    tabular.Column("ФИО администратора", "admin_name", parse=tabular.parse_text, example="Петрова Анна Ивановна",
                   max_length=tabular.length_of(User.full_name)),
    tabular.Column("E-mail администратора", "admin_email", parse=_email, example="petrova@school3.example",
                   max_length=tabular.length_of(User.email)),
]
TITLE = _l("Onboarding")


@dataclass
class Report:
    created: list[dict] = field(default_factory=list)  # {"kind", "name", "id"}
    existing: list[dict] = field(default_factory=list)
    admins: list[dict] = field(default_factory=list)  # {"login", "name", "tenant", "code"}

    def as_dict(self):
        return {"created": self.created, "existing": self.existing, "admins": self.admins}


def check(region: Tenant, parsed: tabular.Parsed) -> tabular.Parsed:
    """Rules across rows and against the tree: schools name a municipality of the region
    (in the file or already there), names are not repeated, admins have a name and an e-mail."""
    existing = {t.name.lower(): t for t in db.session.execute(select(Tenant).where(
        Tenant.parent_id == region.id, Tenant.kind == "municipality")).scalars()}
    in_file = {}
    seen = set()
    for row in parsed.rows:
        number = row["_row"]
        if row["kind"] == "municipality" and row["name"]:
            in_file[row["name"].lower()] = number
        key = (row["kind"], (row.get("municipality") or "").lower(), (row["name"] or "").lower())
        if key in seen:
            parsed.reject(number, "Полное наименование", _("This row repeats an earlier one."))
        seen.add(key)
        if bool(row.get("admin_name")) != bool(row.get("admin_email")):
            column = "E-mail администратора" if row.get("admin_name") else "ФИО администратора"
            parsed.reject(number, column, _("Give both the admin's full name and e-mail, or neither."))
    _check_admin_accounts(region, parsed)
    for row in parsed.rows:
        if row["kind"] == "school":
            parent = (row.get("municipality") or "").lower()
            if not parent:
                parsed.reject(row["_row"], "Муниципалитет", _("Name the municipality of the school."))
            elif parent not in existing and parent not in in_file:
                parsed.reject(row["_row"], "Муниципалитет",
                              _("No municipality «%(name)s» in the region or in the file.", name=row["municipality"]))
    return parsed


def _check_admin_accounts(region: Tenant, parsed: tabular.Parsed):
    """An admin e-mail that is already a login may be given the role only when every role
    of that account lies inside this region (a region admin cannot reach, let alone take
    over, an account of another region)."""
    emails = {row["admin_email"] for row in parsed.rows if row.get("admin_email")}
    if not emails:
        return
    held = accounts.role_paths_of_logins(emails, reason="onboarding: whose are these logins")
    outside = {login for login, path in held if path is None or not path.startswith(region.path)}
    for row in parsed.rows:
        if row.get("admin_email") in outside:
            parsed.reject(row["_row"], "E-mail администратора",
                          _("This login is already taken."))


def preview(region: Tenant, filename: str, data: bytes) -> tabular.Parsed:
    service.require(service.can_create_child(region, "municipality"))
    return check(region, tabular.parse(filename, data, COLUMNS))


def commit(region: Tenant, filename: str, data: bytes, issued_by_id=None) -> tuple[tabular.Parsed, Report | None]:
    """Apply the whole file in the caller's transaction, or nothing if any row is rejected."""
    parsed = preview(region, filename, data)
    if parsed.errors:
        return parsed, None
    report = Report()
    municipalities = {t.name.lower(): t for t in db.session.execute(select(Tenant).where(
        Tenant.parent_id == region.id, Tenant.kind == "municipality")).scalars()}
    ordered = sorted(parsed.rows, key=lambda r: (r["kind"] != "municipality", r["_row"]))
    for row in ordered:
        parent = region if row["kind"] == "municipality" else municipalities[row["municipality"].lower()]
        tenant = db.session.execute(select(Tenant).where(Tenant.parent_id == parent.id,
                                                         Tenant.name == row["name"])).scalar_one_or_none()
        if tenant is None:
            tenant = service.create_tenant(kind=row["kind"], name=row["name"], parent_id=parent.id,
                                           short_name=row.get("short_name"), timezone=row.get("timezone"),
                                           website_url=row.get("website_url"), reason=_("onboarding"))
            report.created.append({"kind": tenant.kind, "name": tenant.name, "id": tenant.id})
        else:
            report.existing.append({"kind": tenant.kind, "name": tenant.name, "id": tenant.id})
        if row["kind"] == "municipality":
            municipalities[tenant.name.lower()] = tenant
        if row.get("admin_email"):
            admin = _ensure_admin(tenant, row["admin_name"], row["admin_email"], issued_by_id)
            if admin:
                report.admins.append(admin)
    return parsed, report


def _ensure_admin(tenant: Tenant, full_name: str, email: str, issued_by_id):
    role = {"municipality": "municipality_admin", "school": "school_admin"}[tenant.kind]
    user, held = accounts.account_and_role(email, tenant_id=tenant.id, role=role,
                                           reason="onboarding: is the admin's login taken")
    if held:
        return None
    code = None
    if user is None:
        import secrets

        # The password is never told: the new admin sets one with the one-time code.
        user = accounts.create_user(login=email, password=secrets.token_urlsafe(24), full_name=full_name,
                                    email=email)
        accounts.grant(user, role=role, tenant_id=tenant.id, tenant_path=tenant.path, tenant_kind=tenant.kind,
                       by=g.get("membership"), reason="onboarding")
        code = accounts.issue_code(user, tenant_id=tenant.id, issued_by_id=issued_by_id)
    else:
        # An existing account keeps its password: it only gets the new role.
        accounts.grant(user, role=role, tenant_id=tenant.id, tenant_path=tenant.path, tenant_kind=tenant.kind,
                       by=g.get("membership"), reason="onboarding")
    return {"login": user.login, "name": user.full_name, "tenant": tenant.name, "tenant_id": tenant.id, "code": code}
