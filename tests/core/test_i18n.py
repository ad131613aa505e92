"""Russian first, English complete; the user's choice, then the tenant's, then the browser."""
import subprocess
import sys
from pathlib import Path


def heading(client, url):
    return client.get(url).get_data(as_text=True)


def test_pages_are_russian_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ru">' in page and "Войти" in page


def test_the_browser_decides_when_nobody_chose(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_the_language_switch_is_remembered_signed_out(client):
    client.post("/language", data={"lang": "en"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_the_language_chosen_before_signing_in_stays_after_signing_in_and_out(client, login, region_tree):
    """Signing in starts a new session (no fixation), but not in another language."""
    client.post("/language", data={"lang": "en"})
    login(client, region_tree["a"]["teacher"])
    assert "Sign out" in client.get(f"/tenants/{region_tree['a']['school']['id']}").get_data(as_text=True)
    client.post("/logout")
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_a_tenant_language_beats_the_browser_and_a_users_choice_beats_both(client, login, region_tree, token):
    a = region_tree["a"]
    headers = token(a["region_admin"])
    url = f"/api/v1/tenants/{a['region']['id']}"
    version = client.get(url, headers=headers).json["version"]
    assert client.patch(url, headers=headers, json={"version": version, "locale": "en"}).status_code == 200
    login(client, a["teacher"])
    school = f"/tenants/{a['school']['id']}"
    ru_browser = {"Accept-Language": "ru"}
    assert "Sign out" in client.get(school, headers=ru_browser).get_data(as_text=True)
    client.post("/language", data={"lang": "ru"})
    assert "Выйти" in client.get(school, headers={"Accept-Language": "en"}).get_data(as_text=True)
    # The choice is saved on the account: a new session starts in Russian too.
    other = client.application.test_client()
    login(other, a["teacher"])
    assert "Выйти" in other.get(school).get_data(as_text=True)


def test_the_russian_catalog_is_complete():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([str(Path(sys.executable).with_name("pybabel")), "compile", "--statistics",
                             "-d", str(root / "core" / "translations"), "-l", "ru"],
                            capture_output=True, text=True, check=True)
    assert "(100%) translated" in result.stderr + result.stdout


def test_every_user_facing_string_is_in_the_catalog(tmp_path):
    """Extracting messages from the code finds nothing the Russian catalog lacks."""
    root = Path(__file__).resolve().parents[2]
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "extract", "-F", str(root / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "-o", str(pot), str(root)], check=True, capture_output=True)
    from babel.messages.pofile import read_po

    with open(pot, "rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with open(root / "core/translations/ru/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert not wanted - translated, sorted(wanted - translated)
