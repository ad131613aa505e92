"""Security item 8: every answer carries the security headers; personal data is not cached;
the server does not name its software."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]


def _assert_secure(response):
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_pages_api_answers_and_errors_carry_the_headers_and_are_not_stored(client, login, region_tree):
    login(client, region_tree["a"]["school_admin"])
    school = region_tree["a"]["school"]
    for response in (client.get("/login"), client.get(f"/tenants/{school['id']}"),
                     client.get("/api/v1/me"), client.get("/api/v1/tenants/999999"),
                     client.get("/no-such-page")):
        assert response.status_code in (200, 302, 404), response.status_code
        _assert_secure(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached_and_still_are_not_sniffed(client):
    response = client.get("/static/tabel.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_behind_tls(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://tabel.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_api_docs_run_without_inline_script(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "<script>" not in page
    script = re.search(r'src="(/static/api_docs\.[0-9a-f]{12}\.js)"', page)
    assert script and client.get(script[1]).status_code == 200


def test_no_template_has_inline_script_or_style_attributes():
    """The policy forbids them; a template that added one would break in the browser."""
    offenders = []
    for template in list(ROOT.glob("core/templates/**/*.html")) + list(ROOT.glob("*/*/templates/**/*.html")):
        text = template.read_text()
        for needle in ("<script>", 'style="', " onclick=", " onchange=", " onsubmit=", "javascript:"):
            if needle in text:
                offenders.append(f"{template.relative_to(ROOT)}: {needle}")
    assert offenders == []


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_sends_no_server_banner(tmp_path, app):
    port = _free_port()
    env = {**os.environ, "TABEL_DATABASE_URL": f"sqlite:///{tmp_path / 'banner.db'}",
           "TABEL_SECRET_KEY": SECRET, "TABEL_INSTANCE_PATH": str(tmp_path), "GUNICORN_WORKERS": "1",
           "TABEL_LOG_LEVEL": "WARNING"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", "infra/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read().decode()[-2000:] if process.poll() is not None
                                         else "gunicorn did not answer")
                time.sleep(0.2)
        assert response.status == 200
        assert response.headers.get("Server") is None
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        process.terminate()
        process.wait(timeout=20)
