"""Static files (issue #13, item 17): a content hash in the URL, kept a year; the plain
name revalidated; gzip for clients that take it; no session, so one cached copy serves
everyone; a favicon. And infra/nginx.conf maps the same URLs to the same files."""
import gzip
import hashlib
import re
import time
from pathlib import Path

from core import assets

ROOT = Path(__file__).resolve().parents[2]
YEAR = "public, max-age=31536000, immutable"


def linked(client, path="/login"):
    """The static URLs a page links, by the file name before the hash."""
    page = client.get(path).get_data(as_text=True)
    return {re.sub(r"\.[0-9a-f]{12}(?=\.)", "", url): url for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', page)}


def test_pages_link_static_files_by_content_and_those_urls_are_kept_a_year(client):
    urls = linked(client)
    assert set(urls) >= {"/static/vendor/pico/pico.min.css", "/static/tabel.css", "/static/tabel.js",
                         "/static/vendor/htmx/htmx.min.js", "/static/favicon.svg"}
    pico = (ROOT / "core/static/vendor/pico/pico.min.css").read_bytes()
    assert urls["/static/vendor/pico/pico.min.css"] == (
        f"/static/vendor/pico/pico.min.{hashlib.sha256(pico).hexdigest()[:12]}.css")
    for url in urls.values():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == YEAR, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_plain_name_or_a_stale_hash_is_served_but_revalidated(client):
    for url in ("/static/tabel.css", "/static/tabel.0123456789ab.css"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"  # never kept under a name that may change
        assert response.data == (ROOT / "core/static/tabel.css").read_bytes()
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    assert client.get("/static/no-such.0123456789ab.css").status_code == 404
    assert client.get("/static/../config.py").status_code == 404


def test_text_files_go_out_gzipped_to_a_client_that_takes_gzip(client):
    url = linked(client)["/static/vendor/pico/pico.min.css"]
    raw = (ROOT / "core/static/vendor/pico/pico.min.css").read_bytes()
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < 20_000 < len(raw)
    assert gzip.decompress(packed.data) == raw
    assert packed.headers["Cache-Control"] == YEAR
    assert client.get(url, headers={"If-None-Match": packed.headers["ETag"],
                                    "Accept-Encoding": "gzip"}).status_code == 304
    plain = client.get(url)  # no Accept-Encoding: the file as it is
    assert "Content-Encoding" not in plain.headers and plain.data == raw


def test_static_answers_carry_no_session_and_the_journal_script_needs_no_sign_in(client, login, region_tree):
    login(client, region_tree["a"]["school_admin"])
    urls = linked(client, f"/tenants/{region_tree['a']['school']['id']}")
    journal = assets.fingerprinted(str(ROOT / "blueprints/journal/static"), "journal.js")
    for url in (*urls.values(), f"/static/journal/{journal}", "/favicon.ico"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Cookie" not in response.headers.get("Vary", ""), url  # one cached copy, whoever is signed in
        assert "Set-Cookie" not in response.headers, url
    client.post("/logout")
    anonymous = client.get(f"/static/journal/{journal}")
    assert anonymous.status_code == 200 and anonymous.headers["Cache-Control"] == YEAR


def test_a_favicon_is_linked_and_answers_at_favicon_ico(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg")
    assert re.search(r'<link rel="icon" href="/static/favicon\.[0-9a-f]{12}\.svg" type="image/svg\+xml">',
                     client.get("/login").get_data(as_text=True))


def test_an_edited_file_gets_a_new_url(tmp_path):
    (tmp_path / "app.js").write_text("one()")
    first = assets.fingerprinted(str(tmp_path), "app.js")
    time.sleep(0.01)
    (tmp_path / "app.js").write_text("two(); three()")
    second = assets.fingerprinted(str(tmp_path), "app.js")
    assert re.fullmatch(r"app\.[0-9a-f]{12}\.js", first) and first != second
    assert assets.fingerprinted(str(tmp_path), "missing.js") == "missing.js"


def _nginx_locations():
    """(regex, alias) of infra/nginx.conf's hashed static locations, PCRE named groups as
    Python's."""
    conf = (ROOT / "infra/nginx.conf").read_text()
    found = re.findall(r'location ~ "([^"]+)" \{\s*alias ([^;]+);', conf)
    return [(re.compile(pattern.replace("(?<", "(?P<")), alias) for pattern, alias in found]


def test_nginx_maps_every_hashed_url_to_the_file_the_app_serves(app, client):
    locations = _nginx_locations()
    assert locations, "infra/nginx.conf has no location for hashed static URLs"
    journal = assets.fingerprinted(app.extensions["tabel.static_folders"]["journal.static"], "journal.js")
    for url in [*linked(client).values(), f"/static/journal/{journal}"]:
        # nginx tries regex locations in order: the first that matches serves
        found = next(((match, alias) for regex, alias in locations if (match := regex.match(url))), None)
        assert found, f"nginx has no location for {url}"
        match, alias = found
        on_disk = re.sub(r"\$(\w+)", lambda name: match[name[1]] or "", alias).replace("/srv/tabel/", f"{ROOT}/")
        assert Path(on_disk).is_file(), f"{url} -> {on_disk}"
        assert client.get(url).data == Path(on_disk).read_bytes()


def test_pages_go_out_gzipped_to_a_client_that_takes_gzip(client, login, region_tree):
    """A parent on a slow link fetching a page without nginx in front (issue #14, item 8)."""
    login(client, region_tree["a"]["region_admin"])
    plain = client.get("/", follow_redirects=True)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = client.get("/", headers={"Accept-Encoding": "gzip"}, follow_redirects=True)
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    page = gzip.decompress(packed.data).decode()
    assert "<html" in page and page.count("<form") == plain.get_data(as_text=True).count("<form")
    # A redirect is left as it is.
    moved = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert moved.status_code == 302 and "Content-Encoding" not in moved.headers
