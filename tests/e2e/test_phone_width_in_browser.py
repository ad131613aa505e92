"""Every page fits a phone (issue #13, item 16): signed in as each demo role, a browser
390 px wide follows the links of the pages it can reach, breadth-first, and no page is wider
than the screen (a wide table scrolls inside its own box, the header folds into a menu)."""
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect

from tenants.demo import ACCOUNTS
from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]

PHONE = {"width": 390, "height": 844}
PAGES_PER_ACCOUNT = 40  # the walk's bound; every account reaches fewer kinds of page today
# One demo account of each role: the region and the school of МАОУ СОШ № 12, whose teacher,
# parent and pupil have records (murmansk and school10 would walk the same kinds of page).
WALKERS = ["admin", "perm", "kirovsk", "school12", "teacher12", "parent12", "pupil12"]
# Not pages: the API, static files, stored files, and downloads (a last segment with a
# file extension: template.xlsx, rating.xlsx). Sign-out is a form (POST), never a link.
NOT_PAGES = re.compile(r"^/(api|static|files)/|/[^/]+\.[A-Za-z0-9]{2,5}$|^/logout")


def kind_of_page(path: str, query: str) -> str:
    """Pages that differ only in ids or parameter values are one kind: /lessons/N?subject_id."""
    keys = sorted(part.split("=", 1)[0] for part in query.split("&") if part)
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(keys) if keys else "")


def walk(page, origin: str):
    """The pages reachable from where sign-in lands, one of each kind, as
    (address, scroll width) pairs."""
    start = urlsplit(page.url)
    queue, kinds, seen = deque([start.path]), {kind_of_page(start.path, "")}, []
    while queue and len(seen) < PAGES_PER_ACCOUNT:
        address = queue.popleft()
        response = page.goto(address)
        if response is None or not response.ok or "text/html" not in response.headers.get("content-type", ""):
            continue
        seen.append((address, page.evaluate("document.documentElement.scrollWidth")))
        for href in page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.href)"):
            url = urlsplit(urljoin(page.url, href))
            if f"{url.scheme}://{url.netloc}" != origin or NOT_PAGES.search(url.path):
                continue
            kind = kind_of_page(url.path, url.query)
            if kind not in kinds:
                kinds.add(kind)
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return seen


@pytest.fixture
def demo(app):
    """The demo as `make run` loads it: every tenant, account and school roster; the
    accounts that walk, one of each role."""
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    walkers = [account for account in ACCOUNTS if account[0] in WALKERS]
    assert {role for _, _, role, _ in walkers} == {role for _, _, role, _ in ACCOUNTS}, "a demo role nobody walks"
    return walkers


def phone(new_page, live_server):
    """A page 390 px wide (new_page also fails the test on what the CSP blocked)."""
    page = new_page(live_server)
    page.set_viewport_size(PHONE)
    return page


def test_every_page_of_every_demo_account_fits_a_phone(new_page, live_server, demo, app):
    overflowing, walked = [], {}
    for login, _name, role, _tenant in demo:
        page = phone(new_page, live_server)
        sign_in(page, login, app.config["DEMO_PASSWORD"])
        expect(page.locator("header details.site-menu")).to_be_visible()
        pages = walk(page, live_server)
        page.context.close()
        walked[login] = len(pages)
        overflowing += [f"{login} ({role}): {address} is {width} px wide"
                        for address, width in pages if width > PHONE["width"]]
    # Each account reached its pages: a sign-in that failed would walk nothing and pass.
    assert all(count >= 3 for count in walked.values()), walked
    assert overflowing == [], "wider than a 390 px screen:\n" + "\n".join(overflowing)


def test_the_menu_folds_on_a_phone_and_opens_with_its_button(new_page, live_server, make_tenant, make_user):
    region = make_tenant("Пермский край", timezone="Asia/Yekaterinburg")
    admin = make_user("perm", "region_admin", region)
    page = phone(new_page, live_server)
    sign_in(page, admin["login"], admin["password"])
    account = page.get_by_test_id("account-link")
    expect(account).to_be_hidden()
    page.get_by_text("Меню", exact=True).click()
    expect(account).to_be_visible()
    box = account.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    expect(page.get_by_role("button", name="Выйти")).to_be_in_viewport()
    page.keyboard.press("Escape")  # tabel.js: Escape closes the open menu
    expect(account).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # A wide screen shows the same links in a row, with no menu button.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(account).to_be_visible()
    expect(page.get_by_text("Меню", exact=True)).to_be_hidden()
