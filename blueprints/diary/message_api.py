"""/api/v1 for messages between guardians and teachers (issue #14, item 6)."""
from flask import g

from core.apispec import Blueprint
from blueprints.diary import messages
from blueprints.diary.schemas import NewMessageSchema, ReplySchema, TeacherSchema, ThreadRowSchema, ThreadSchema

blp = Blueprint("messages_api", __name__, description="Messages between parents and teachers")


@blp.route("/pupils/<int:child_id>/teachers")
@blp.response(200, TeacherSchema(many=True))
def child_teachers(child_id):
    """Whom a guardian may write about this pupil: the class teacher and the class's teachers."""
    return messages.teachers_of(g.loaded["child_id"])


@blp.route("/pupils/<int:child_id>/threads")
@blp.response(200, ThreadRowSchema(many=True))
def child_threads(child_id):
    """The pupil's threads, one per teacher, newest first, with the caller's unread counts."""
    return messages.threads_of_child(g.loaded["child_id"])


@blp.route("/pupils/<int:child_id>/threads", methods=["POST"])
@blp.arguments(NewMessageSchema)
@blp.response(201, ThreadSchema)
def write_to_teacher(data, child_id):
    """A guardian's message to one of the pupil's teachers (422 for a teacher who does not
    teach the pupil); the thread is made by the first message."""
    thread, _message = messages.write_to_teacher(g.loaded["child_id"], data["teacher_id"], data["text"])
    g.message_child = g.loaded["child_id"]
    return messages.thread_view(thread)


@blp.route("/me/threads")
@blp.response(200, ThreadRowSchema(many=True))
def my_threads():
    """A teacher's threads with unread counts; for a school admin, every thread of the school."""
    return messages.inbox()[0]


@blp.route("/threads/<int:thread_id>")
@blp.response(200, ThreadSchema)
def thread(thread_id):
    """The thread's messages, oldest first; reading it marks it read for the caller."""
    return messages.thread_view(g.loaded["thread_id"])


@blp.route("/threads/<int:thread_id>/messages", methods=["POST"])
@blp.arguments(ReplySchema)
@blp.response(201, ThreadSchema)
def reply(data, thread_id):
    """A reply by the pupil's guardian or the thread's teacher (the administration: 403)."""
    messages.reply(g.loaded["thread_id"], data["text"])
    return messages.thread_view(g.loaded["thread_id"])
