"""Reports as the crawler would answer them, for tests that need no website."""
from blueprints.disclosure import checks, crawler

ITEMS = [item["key"] for item in checks.default_checklist()]


def report(url="http://127.0.0.1:9/", missing=(), broken=(), outdated=(), microdata_missing=(), site_error=None):
    """A site where every default checklist item is found except ``missing``, every
    microdata property present except ``microdata_missing``, with the given broken links
    and outdated documents."""
    if site_error:
        return checks.SiteReport(start_url=url, findings=[checks.Finding("site", site_error, site_error, False,
                                                                         url=url)],
                                 pages_fetched=0, links_checked=0, elapsed_ms=5, error=site_error)
    findings = []
    for item in checks.default_checklist():
        detail = {"required": item["required"], "title": item["title"]}
        if item["key"] in missing:
            findings.append(checks.Finding("item", item["key"], "missing", False, detail=detail))
        else:
            findings.append(checks.Finding("item", item["key"], "found", True, url=url + item["key"],
                                           text=item["title"], page=url, detail=detail))
    for name in checks.MICRODATA_PROPS:
        findings.append(checks.Finding("microdata", name, "missing" if name in microdata_missing else "present",
                                       name not in microdata_missing, page=url))
    findings.append(checks.Finding("link", url + "ok.html", "ok", True, url=url + "ok.html", text="Работает",
                                   page=url, detail={"status_code": 200}))
    for link in broken:
        findings.append(checks.Finding("link", link, "broken", False, url=link, text="Битая ссылка", page=url,
                                       detail={"status_code": 404}))
    for doc in outdated:
        findings.append(checks.Finding("outdated", doc, "outdated", False, url=doc, text="Положение 2015", page=url,
                                       detail={"reason": "newer_version"}))
    return checks.SiteReport(start_url=url, findings=findings, pages_fetched=5, links_checked=1 + len(broken),
                             elapsed_ms=40)


def fake_crawler(monkeypatch, reports_by_url, default=None):
    """Replace the crawler's ``run``: each site's report comes from ``reports_by_url``."""
    calls = []

    def run(sites, settings, progress=None):
        calls.append(dict(sites))
        out = {}
        for n, (site_id, (url, items)) in enumerate(sites.items(), start=1):
            out[site_id] = reports_by_url.get(url) or default or report(url)
            if progress:
                progress(n, len(sites))
        return out

    monkeypatch.setattr(crawler, "run", run)
    return calls


import pytest  # noqa: E402


@pytest.fixture
def kirovsk(make_tenant, make_user):
    """A region, the Kirovsk municipality with three schools (sites on a port nothing
    listens on: tests replace the crawler or serve them), and its admins and a teacher."""
    region = make_tenant("Мурманская область", timezone="Europe/Moscow")
    municipality = make_tenant("г. Кировск", parent=region)
    schools = [make_tenant(f"СОШ № {n}", parent=municipality, website_url=f"http://127.0.0.1:9/school{n}/")
               for n in (2, 5, 10)]
    return {"region": region, "municipality": municipality, "schools": schools,
            "region_admin": make_user("murmansk", "region_admin", region),
            "admin": make_user("kirovsk", "municipality_admin", municipality),
            "school_admin": make_user("school10", "school_admin", schools[2]),
            "other_school_admin": make_user("school2", "school_admin", schools[0]),
            "teacher": make_user("teacher10", "teacher", schools[2])}


REPORTS = {
    "http://127.0.0.1:9/school2/": report("http://127.0.0.1:9/school2/"),
    "http://127.0.0.1:9/school5/": report("http://127.0.0.1:9/school5/", missing=["journal_link", "consent_form"],
                                          broken=["http://127.0.0.1:9/dead.pdf"]),
    "http://127.0.0.1:9/school10/": report("http://127.0.0.1:9/school10/", missing=["service_regulation"],
                                           outdated=["http://127.0.0.1:9/old.pdf"], microdata_missing=["email"]),
}


@pytest.fixture
def checked(kirovsk, monkeypatch, as_platform):
    """Kirovsk after one check of its three schools (scores 100, 85.2, 83.9)."""
    from sqlalchemy import select

    from core.extensions import db
    from blueprints.disclosure import check_runs
    from tenants.models import Tenant

    fake_crawler(monkeypatch, REPORTS)
    with as_platform():
        municipality = db.session.execute(select(Tenant).where(Tenant.id == kirovsk["municipality"]["id"])).scalar_one()
        run = check_runs.start_check(municipality, permission_checked=True)
        kirovsk["run_id"] = run.id
    return kirovsk
