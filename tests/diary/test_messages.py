"""Messages between a pupil's guardians and teachers (issue #14, item 6): threads per pupil
and teacher, unread counts for the teacher, the school's administration reads but does not
write, a guardian writes only to the pupil's teachers (422 otherwise), and nobody else
reaches a thread (404)."""
import pytest

pytestmark = pytest.mark.usefixtures("school_day")


def write(api, guardian, child, teacher_id, text="Здравствуйте! Можно уточнить домашнее задание?"):
    return api(guardian, "POST", f"/api/v1/pupils/{child}/threads", json={"teacher_id": teacher_id, "text": text})


def test_a_guardian_writes_to_the_class_teacher_who_sees_it_unread_and_answers(app, family, api):
    teachers = api(family["guardian"], "GET", f"/api/v1/pupils/{family['child']}/teachers").get_json()
    by_name = {t["name"]: t for t in teachers}
    morozova = by_name["Морозова Анна Сергеевна"]
    assert morozova["is_class_teacher"] and morozova["subjects"] == ["Математика"]
    assert by_name["Иванов Пётр"]["subjects"] == ["Русский язык"]

    sent = write(api, family["guardian"], family["child"], morozova["id"])
    assert sent.status_code == 201
    thread = sent.get_json()
    assert thread["teacher"] == "Морозова Анна Сергеевна" and thread["messages"][0]["mine"]

    inbox = api(family["teacher"], "GET", "/api/v1/me/threads").get_json()
    assert [(t["pupil"], t["unread"]) for t in inbox] == [("Ученик000 Иван", 1)]
    read = api(family["teacher"], "GET", f"/api/v1/threads/{thread['id']}").get_json()
    assert read["messages"][0]["text"].startswith("Здравствуйте") and read["may_write"]
    assert api(family["teacher"], "GET", "/api/v1/me/threads").get_json()[0]["unread"] == 0

    answer = api(family["teacher"], "POST", f"/api/v1/threads/{thread['id']}/messages",
                 json={"text": "Добрый день! № 210 и 212."})
    assert answer.status_code == 201
    mine = api(family["guardian"], "GET", f"/api/v1/pupils/{family['child']}/threads").get_json()
    assert [(t["teacher"], t["unread"], t["last"]) for t in mine] == [
        ("Морозова Анна Сергеевна", 1, "Добрый день! № 210 и 212.")]
    # A second message to the same teacher goes into the same thread.
    again = write(api, family["guardian"], family["child"], morozova["id"], "Спасибо!")
    assert again.get_json()["id"] == thread["id"] and len(again.get_json()["messages"]) == 3


def test_a_teacher_who_does_not_teach_the_pupil_or_an_empty_message_is_422(app, family, api):
    other_school_teacher = family["second"]["teacher_id"]
    refused = write(api, family["guardian"], family["child"], other_school_teacher)
    assert refused.status_code == 422
    assert "не ведёт уроки" in refused.get_json()["errors"]["teacher_id"][0]
    empty = write(api, family["guardian"], family["child"], family["first"]["teacher_id"], "   ")
    assert empty.status_code == 422 and empty.get_json()["errors"]["text"] == ["Напишите сообщение."]
    assert api(family["guardian"], "GET", f"/api/v1/pupils/{family['child']}/threads").get_json() == []


def test_nobody_else_reaches_a_thread_and_the_administration_only_reads(app, family, api, make_user, region_tree):
    thread = write(api, family["guardian"], family["child"], family["first"]["teacher_id"]).get_json()["id"]
    url = f"/api/v1/threads/{thread}"
    other_teacher = make_user("teacher-a2", "teacher", family["a"]["school"])
    assert api(family["other_guardian"], "GET", url).status_code == 404  # another pupil's parent
    assert api(family["pupil"], "GET", url).status_code == 404
    assert api(other_teacher, "GET", url).status_code == 404  # not this thread's teacher
    assert api(region_tree["b"]["school_admin"], "GET", url).status_code == 404
    assert api(family["a"]["school_admin"], "GET", url).status_code == 200  # the school's correspondence
    assert api(family["a"]["school_admin"], "POST", f"{url}/messages", json={"text": "Вмешаюсь"}).status_code == 403
    listing = api(family["a"]["school_admin"], "GET", "/api/v1/me/threads").get_json()
    assert [t["id"] for t in listing] == [thread]
    # Another pupil's parent cannot write about a child not theirs.
    assert write(api, family["other_guardian"], family["child"], family["first"]["teacher_id"]).status_code == 404


def test_the_pages_send_and_answer_and_the_inbox_shows_what_is_new(app, family, login):
    guardian = login(app.test_client(), family["guardian"])
    page = guardian.get(f"/diary/{family['child']}/messages")
    assert page.status_code == 200 and "Морозова Анна Сергеевна — классный руководитель" in page.get_data(as_text=True)
    sent = guardian.post(f"/diary/{family['child']}/messages",
                         data={"teacher_id": family["first"]["teacher_id"], "text": "Сын болеет, придёт в понедельник."})
    assert sent.status_code == 302
    thread_page = guardian.get(sent.headers["Location"]).get_data(as_text=True)
    assert "новое" not in guardian.get(f"/diary/{family['child']}/messages").get_data(as_text=True)
    assert "Сын болеет, придёт в понедельник." in thread_page

    bad = guardian.post(f"/diary/{family['child']}/messages", data={"teacher_id": family["first"]["teacher_id"],
                                                                     "text": ""})
    assert bad.status_code == 422 and "Напишите сообщение." in bad.get_data(as_text=True)

    teacher = login(app.test_client(), family["teacher"])
    inbox = teacher.get("/messages").get_data(as_text=True)
    assert "1 непрочитанное сообщение" in inbox and "Ученик000 Иван" in inbox
    reply = teacher.post(sent.headers["Location"], data={"text": "Выздоравливайте!"})
    assert reply.status_code == 302
    assert "непрочитанн" not in teacher.get("/messages").get_data(as_text=True)
    assert "1 новое" in guardian.get(f"/diary/{family['child']}/messages").get_data(as_text=True)
    assert "Выздоравливайте!" in guardian.get(sent.headers["Location"]).get_data(as_text=True)
    assert "новое" not in guardian.get(f"/diary/{family['child']}/messages").get_data(as_text=True)


def test_the_inbox_costs_the_same_statements_whatever_the_threads(app, family, api, make_user, count_queries,
                                                                     raw_sql, add_role):
    def statements():
        api(family["teacher"], "GET", "/api/v1/me/threads")
        with count_queries() as counter:
            rows = api(family["teacher"], "GET", "/api/v1/me/threads").get_json()
        return counter.count, len(rows)

    write(api, family["guardian"], family["child"], family["first"]["teacher_id"])
    one = statements()
    write(api, family["other_guardian"], family["stranger"], family["first"]["teacher_id"])
    two = statements()
    assert (one[1], two[1]) == (1, 2) and one[0] == two[0]
