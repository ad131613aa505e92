"""The diary's notifications: ``mailbox`` (a real SMTP server on loopback, aiosmtpd) and
``sms_gateway`` (a small HTTP server standing for an SMS provider), both pointed at by the
app's settings for the test."""
import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the SMTP server received; ``refuse`` (addresses) and ``down`` make it say no."""

    def __init__(self):
        self.messages, self.refuse, self.down = [], set(), False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.down:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def mailbox(app, monkeypatch):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    yield box
    controller.stop()


class Gateway(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append({"body": body, "auth": self.headers.get("Authorization")})
        status = self.server.answers.pop(0) if self.server.answers else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "queued"}')

    def log_message(self, *args):
        return None


@pytest.fixture
def sms_gateway(app, monkeypatch):
    """``.received`` the requests, ``.answers`` statuses to answer next (then 200)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "http")
    monkeypatch.setitem(app.config, "SMS_HTTP_URL", f"http://127.0.0.1:{server.server_address[1]}/send")
    monkeypatch.setitem(app.config, "SMS_HTTP_TOKEN", "gateway-token")
    yield server
    server.shutdown()
    server.server_close()
