"""Steps the browser tests share."""


def sign_in(page, login, password):
    """Sign in through the login form, as a person would."""
    page.goto("/login")
    page.get_by_label("Логин").or_(page.get_by_label("Login")).fill(login)
    page.get_by_label("Пароль").or_(page.get_by_label("Password")).fill(password)
    page.get_by_role("button", name="Войти").or_(page.get_by_role("button", name="Sign in")).click()


def shoot(page, name):
    """Save a screenshot of the whole page under $TABEL_SHOTS (when set): what the closing
    notes and reviews describe is what the browser tests saw."""
    import os

    folder = os.environ.get("TABEL_SHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
