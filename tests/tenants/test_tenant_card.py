"""A tenant's card: its time zone and language in words, its statistics in the reader's
local time, and a statistics section that fetches itself again when its recount ends (the
figures and the button come back without a reload)."""
import re

from core.extensions import db

EN = {"Accept-Language": "en"}


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html):
    start = html.index('<section id="statistics"')
    return html[start:html.index("</section>", start)]


def add_job(as_platform, tenant, status):
    from core.jobs.models import Job

    with as_platform():
        row = Job(tenant_id=tenant["id"], tenant_path=tenant["path"], kind="tenant_stats", status=status,
                  progress=40, message="Running")
        db.session.add(row)
        db.session.commit()
        return row.id


def test_the_card_names_the_zone_and_the_language_in_words(app, client, login, region_tree):
    a = region_tree["a"]
    login(client, a["school_admin"])
    card = client.get(f"/tenants/{a['school']['id']}").get_data(as_text=True)
    assert re.search(r'data-testid="timezone">Москва, UTC\+3 <small', card)
    assert re.search(r'data-testid="language">Русский <span', card)
    english = client.get(f"/tenants/{a['school']['id']}", headers=EN).get_data(as_text=True)
    assert "Moscow, UTC+3" in english and "Europe/Moscow" in english  # the id an admin types, beside the words
    root = login(app.test_client(), region_tree["platform_admin"])
    regions = text_of(root.get("/tenants").get_data(as_text=True))
    assert "Москва, UTC+3" in regions and "Томск, UTC+7" in regions and "Asia/Tomsk" not in regions


def test_the_section_fetches_itself_when_the_recount_ends(client, login, region_tree, as_platform, raw_sql):
    """While the job runs: its progress, no button, and the section waits for «job-finished»
    to fetch ``/tenants/<id>/statistics``. That fragment, once the job is done, has the
    figures, the local time they were computed and the button, and waits for nothing."""
    a = region_tree["a"]
    job_id = add_job(as_platform, a["region"], "running")
    login(client, a["region_admin"])
    running = section(client.get(f"/tenants/{a['region']['id']}").get_data(as_text=True))
    fragment_url = f"/tenants/{a['region']['id']}/statistics"
    assert f'hx-get="{fragment_url}" hx-trigger="job-finished"' in running
    assert f'id="job-{job_id}"' in running and "Пересчитать статистику" not in running
    assert "Ещё не подсчитано" in running

    raw_sql("UPDATE job SET status = 'succeeded' WHERE id = :id", id=job_id)
    with as_platform():
        from tenants.models import TenantStats  # the figures the job leaves

        db.session.add(TenantStats(tenant_id=a["region"]["id"], municipalities=1, schools=1, accounts=4,
                                   job_id=job_id))
        db.session.commit()
    fragment = client.get(fragment_url)
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="statistics"') and "<html" not in html
    assert [m for m in re.findall(r"<strong>(\d+)</strong>", html)] == ["1", "1", "4"]
    assert "Пересчитать статистику" in html and "hx-trigger" not in html and "Ещё не подсчитано" not in html
    assert re.search(r"подсчитано 18\.11\.2026 10:0\d\)", text_of(html))  # Murmansk is on Moscow time; no «UTC»


def test_a_recount_that_failed_says_so_and_offers_the_button_again(client, login, region_tree, as_platform):
    a = region_tree["a"]
    add_job(as_platform, a["municipality"], "failed")
    login(client, a["municipality_admin"])
    html = section(client.get(f"/tenants/{a['municipality']['id']}").get_data(as_text=True))
    assert "Последний пересчёт не завершился" in html and "Пересчитать статистику" in html


def test_a_school_card_counts_what_a_school_has(client, login, region_tree):
    """A school has accounts; «municipalities: 0 · schools: 1» would say nothing."""
    a = region_tree["a"]
    login(client, a["school_admin"])
    assert client.post(f"/tenants/{a['school']['id']}/statistics").status_code == 302
    stats = text_of(section(client.get(f"/tenants/{a['school']['id']}").get_data(as_text=True)))
    assert "Учётные записи: 2" in stats and "Муниципалитеты" not in stats and "Школы:" not in stats


def test_the_fragment_is_no_wider_than_the_card(client, login, region_tree):
    b = region_tree["b"]
    login(client, region_tree["a"]["region_admin"])
    assert client.get(f"/tenants/{b['region']['id']}/statistics").status_code == 404
