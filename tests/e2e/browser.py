"""Steps the browser tests share."""


def sign_in(page, login, password):
    """Sign in through the login form, as a person would."""
    page.goto("/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
