"""Security item 8 in a real browser: the policy blocks injected inline script, and the pages
that ship scripts (the API docs' Swagger UI, htmx) work under it."""


def test_the_browser_refuses_an_injected_inline_script(browser, live_server):
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        blocked = []
        page.on("console", lambda message: blocked.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto("/login")
        page.evaluate("""() => { const script = document.createElement('script');
                                 script.textContent = 'window.injected = true';
                                 document.head.appendChild(script); }""")
        assert page.evaluate("window.injected === undefined")
        assert blocked, "the browser reported no blocked script"
    finally:
        context.close()


def test_the_api_docs_render_under_the_policy(page):
    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    assert page.locator(".opblock").count() > 20
