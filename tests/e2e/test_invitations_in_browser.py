"""AC-3 in the browser: the class teacher opens «Приглашения» from the class page, sees who
has no account yet and downloads the slips as a PDF; on a laptop and a phone, in Russian
and English."""
import os
import shutil

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


@pytest.mark.parametrize("locale,width", [("ru-RU", 1366), ("ru-RU", 390), ("en-GB", 1366), ("en-GB", 390)])
def test_the_class_teacher_prints_invitation_slips(new_page, live_server, family, locale, width, tmp_path):
    page = new_page(live_server, locale=locale)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, family["teacher"]["login"], family["teacher"]["password"])
    page.goto(f"/classes/{family['first']['class_id']}/list")
    page.get_by_test_id("invitations-link").click()
    rows = page.locator("#people tbody tr")
    expect(rows).to_have_count(6)  # three pupils, each with a guardian
    expect(page.locator("#people tbody tr[data-kind='guardian']")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"invitations-{locale[:2]}-{width}")
    with page.expect_download() as download:
        page.get_by_test_id("print-slips").click()
    saved = tmp_path / "slips.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    if os.environ.get("TABEL_SHOTS") and width == 1366:
        shutil.copy(saved, os.path.join(os.environ["TABEL_SHOTS"], f"slips-{locale[:2]}.pdf"))
    assert download.value.suggested_filename.endswith(".pdf")
