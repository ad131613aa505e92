"""The interactive API docs at /api/v1/docs, served from the vendored Swagger UI."""
from flask import render_template, url_for


def init_app(app):
    @app.route("/api/v1/docs")
    def api_docs():
        return render_template("core/api_docs.html", spec_url=url_for("api-docs.openapi_json"))
