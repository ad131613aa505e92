"""Files kept between an import's preview and its commit.

The preview stores the uploaded file in the tenant's region storage under a random key and
hands the key to the page; the commit reads the same bytes back (verified by SHA-256), so
what is committed is exactly what was checked."""
import secrets

from flask import abort

from core.storage import NotFound, storage_for

PREFIX = "uploads"


def _key(tenant, token):
    return f"{PREFIX}/{tenant.id}/{token}"


def save_upload(tenant, filename: str, data: bytes) -> str:
    token = secrets.token_urlsafe(16)
    storage_for(tenant.path_ids[0]).put(_key(tenant, token), data, metadata={"filename": filename})
    return token


def load_upload(tenant, token: str) -> tuple[str, bytes]:
    """The file of a preview of this tenant (404 for another tenant's or an unknown key)."""
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        abort(404)
    store = storage_for(tenant.path_ids[0])
    try:
        head = store.head(_key(tenant, token))
        data = store.get(_key(tenant, token), verify=True)
    except NotFound:
        abort(404)
    return head.metadata.get("filename", "upload"), data
