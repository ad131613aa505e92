"""Object storage: one interface, two backends (local files, S3 through boto3).

Every object records its SHA-256 and size next to it (S3 user metadata, or a sidecar JSON
file on disk); ``get(verify=True)`` recomputes both and raises :class:`ChecksumMismatch`
when the bytes changed (RT-2). Archives that must not be altered are written with a
retention date (S3 Object Lock in COMPLIANCE mode; on disk, the sidecar records it and
the file is made read-only): deleting them before that date raises :class:`ObjectLocked`.

Metadata values may be any text: S3 allows only ASCII in headers, so values are stored
percent-encoded and decoded on the way out.

A region can have its own bucket and credentials (PD-3: its data stays where its
configuration says). ``STORAGE`` is the default; ``STORAGE_REGIONS`` maps a region's id
(as a string) to its own settings::

    STORAGE = {"backend": "local", "root": "instance/storage"}
    STORAGE_REGIONS = {"7": {"backend": "s3", "endpoint_url": "https://s3.region.example",
                             "bucket": "tabel-region-7", "access_key": "...", "secret_key": "..."}}
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import quote, unquote

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from core import clock

CHUNK = 1024 * 1024


class StorageError(Exception):
    pass


class NotFound(StorageError):
    pass


class ChecksumMismatch(StorageError):
    """The stored bytes no longer match the SHA-256 recorded when they were written."""


class ObjectLocked(StorageError):
    """The object is under retention and cannot be deleted or replaced yet."""


@dataclass
class StoredObject:
    key: str
    size: int
    sha256: str
    content_type: str = "application/octet-stream"
    metadata: dict = field(default_factory=dict)
    retain_until: dt.datetime | None = None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_key(key: str):
    if not key or key.startswith("/") or ".." in key.split("/") or "\x00" in key:
        raise StorageError(f"invalid key: {key!r}")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class Storage:
    """The interface every backend implements."""

    def put(self, key: str, data: bytes, *, content_type="application/octet-stream",
            metadata: dict | None = None, retain_until: dt.datetime | None = None) -> StoredObject:
        raise NotImplementedError

    def head(self, key: str) -> StoredObject:
        raise NotImplementedError

    def get(self, key: str, *, verify: bool = False) -> bytes:
        raise NotImplementedError

    def stream(self, key: str) -> Iterator[bytes]:
        raise NotImplementedError

    def delete(self, key: str):
        raise NotImplementedError

    def list(self, prefix: str = "") -> list[StoredObject]:
        raise NotImplementedError

    def keys(self, prefix: str = "") -> list[str]:
        """The keys under a prefix, sorted, without reading each object's metadata (a listing
        of thousands of audit anchors must not cost a request per object)."""
        raise NotImplementedError

    def download_url(self, key: str, expires_in: int = 300, filename: str | None = None) -> str:
        raise NotImplementedError

    def _verified(self, key: str, data: bytes) -> bytes:
        recorded = self.head(key)
        if len(data) != recorded.size or _digest(data) != recorded.sha256:
            raise ChecksumMismatch(key)
        return data


class LocalStorage(Storage):
    """Files under a root folder; ``<key>.meta.json`` beside each holds what S3 keeps in
    its metadata. Downloads go through the app (a signed, expiring link)."""

    META = ".meta.json"

    def __init__(self, root: str | os.PathLike, name: str = "default"):
        self.root = Path(root)
        self.name = name  # which configured store: download links name it

    def _path(self, key: str) -> Path:
        _check_key(key)
        if key.endswith(self.META):
            raise StorageError(f"invalid key: {key!r}")
        return self.root / key

    def _meta_path(self, key: str) -> Path:
        return self._path(key).with_name(self._path(key).name + self.META)

    def put(self, key, data, *, content_type="application/octet-stream", metadata=None, retain_until=None):
        path = self._path(key)
        if path.exists():
            self._refuse_if_locked(key)
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        path.parent.mkdir(parents=True, exist_ok=True)
        obj = StoredObject(key, len(data), _digest(data), content_type, dict(metadata or {}), _utc(retain_until))
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers see the old or the new file, never half of one
        self._meta_path(key).write_text(json.dumps({
            "size": obj.size, "sha256": obj.sha256, "content_type": content_type, "metadata": obj.metadata,
            "retain_until": obj.retain_until.isoformat() if obj.retain_until else None,
        }, ensure_ascii=False), encoding="utf-8")
        if obj.retain_until:
            path.chmod(stat.S_IRUSR | stat.S_IRGRP)
        return obj

    def head(self, key):
        meta_path = self._meta_path(key)
        if not self._path(key).exists() or not meta_path.exists():
            raise NotFound(key)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        until = dt.datetime.fromisoformat(meta["retain_until"]) if meta.get("retain_until") else None
        return StoredObject(key, meta["size"], meta["sha256"], meta["content_type"], meta["metadata"], until)

    def get(self, key, *, verify=False):
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None
        return self._verified(key, data) if verify else data

    def stream(self, key):
        path = self._path(key)
        if not path.exists():
            raise NotFound(key)
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def _refuse_if_locked(self, key):
        until = self.head(key).retain_until
        if until and until > clock.now():
            raise ObjectLocked(f"{key} is retained until {until.isoformat()}")

    def delete(self, key):
        self._refuse_if_locked(key)
        path = self._path(key)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        path.unlink()
        self._meta_path(key).unlink(missing_ok=True)

    def list(self, prefix=""):
        if prefix:
            _check_key(prefix)
        found = []
        if not self.root.exists():
            return found
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith((self.META, ".tmp")):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(self.head(key))
        return found

    def keys(self, prefix=""):
        if prefix:
            _check_key(prefix)
        folder = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not folder.exists():
            return []
        found = (path.relative_to(self.root).as_posix() for path in folder.rglob("*")
                 if path.is_file() and not path.name.endswith((self.META, ".tmp")))
        return sorted(key for key in found if key.startswith(prefix))

    def download_url(self, key, expires_in=300, filename=None):
        from flask import url_for

        self.head(key)
        token = _download_serializer().dumps({"k": key, "f": filename, "t": expires_in, "s": self.name})
        return url_for("storage_download", token=token)


class S3Storage(Storage):
    """S3 through boto3 (any S3-compatible server: ``endpoint_url``)."""

    def __init__(self, *, bucket, endpoint_url=None, access_key=None, secret_key=None,
                 region_name="us-east-1", object_lock=False):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.object_lock = object_lock
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            region_name=region_name,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30))

    def _error_code(self, error):
        return getattr(error, "response", {}).get("Error", {}).get("Code")

    def ensure_bucket(self):
        """Create the bucket if missing (with Object Lock when configured: it cannot be
        switched on later)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            kwargs = {"ObjectLockEnabledForBucket": True} if self.object_lock else {}
            self.client.create_bucket(Bucket=self.bucket, **kwargs)

    def put(self, key, data, *, content_type="application/octet-stream", metadata=None, retain_until=None):
        _check_key(key)
        obj = StoredObject(key, len(data), _digest(data), content_type, dict(metadata or {}), _utc(retain_until))
        headers = {quote(k, safe=""): quote(str(v), safe="") for k, v in obj.metadata.items()}
        headers.update({"tabel-sha256": obj.sha256, "tabel-size": str(obj.size)})
        kwargs = {}
        if retain_until:
            kwargs = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": obj.retain_until}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                               Metadata=headers, ChecksumAlgorithm="SHA256", **kwargs)
        return obj

    def head(self, key):
        from botocore.exceptions import ClientError

        _check_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if self._error_code(error) in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(key) from None
            raise
        meta = dict(head.get("Metadata", {}))
        sha = meta.pop("tabel-sha256", "")
        size = int(meta.pop("tabel-size", head["ContentLength"]))
        return StoredObject(key, size, sha, head.get("ContentType", "application/octet-stream"),
                            {unquote(k): unquote(v) for k, v in meta.items()},
                            _utc(head.get("ObjectLockRetainUntilDate")))

    def _body(self, key):
        from botocore.exceptions import ClientError

        _check_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as error:
            if self._error_code(error) in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(key) from None
            raise

    def get(self, key, *, verify=False):
        data = self._body(key).read()
        return self._verified(key, data) if verify else data

    def stream(self, key):
        body = self._body(key)
        yield from body.iter_chunks(CHUNK)

    def delete(self, key):
        """Remove every version of the object; a retained version refuses (ObjectLocked)."""
        from botocore.exceptions import ClientError

        _check_key(key)
        versions = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        targets = [v for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []) if v["Key"] == key]
        try:
            if not targets:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            for version in targets:
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version["VersionId"])
        except ClientError as error:
            if self._error_code(error) in ("AccessDenied", "InvalidRequest", "ObjectLocked"):
                raise ObjectLocked(key) from error
            raise

    def list(self, prefix=""):
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found.append(self.head(item["Key"]))
        return found

    def keys(self, prefix=""):
        paginator = self.client.get_paginator("list_objects_v2")
        return sorted(item["Key"] for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                      for item in page.get("Contents", []))

    def download_url(self, key, expires_in=300, filename=None):
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)


def build(settings: dict, instance_path: str, name: str = "default") -> Storage:
    backend = settings.get("backend", "local")
    if backend == "local":
        root = Path(settings.get("root") or "storage")
        return LocalStorage(root if root.is_absolute() else Path(instance_path) / root, name)
    if backend == "s3":
        return S3Storage(bucket=settings["bucket"], endpoint_url=settings.get("endpoint_url"),
                         access_key=settings.get("access_key"), secret_key=settings.get("secret_key"),
                         region_name=settings.get("region_name", "us-east-1"),
                         object_lock=settings.get("object_lock", False))
    raise StorageError(f"unknown storage backend {backend!r}")


def storage_for(region_id: int | None = None) -> Storage:
    """The storage of a region (its own bucket if configured), else the default."""
    cache = current_app.extensions.setdefault("tabel.storage", {})
    regions = current_app.config.get("STORAGE_REGIONS") or {}
    key = str(region_id) if region_id is not None and str(region_id) in regions else "default"
    if key not in cache:
        settings = regions[key] if key != "default" else current_app.config["STORAGE"]
        cache[key] = build(settings, current_app.instance_path, key)
    return cache[key]


def _download_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tabel-download")


def init_app(app):
    """The proxied download route for the local backend: a signed link that expires."""
    from flask import Response, abort

    @app.route("/files/<token>")
    def storage_download(token):
        from itsdangerous import BadSignature, SignatureExpired

        try:
            payload = _download_serializer().loads(token, max_age=3600)
            _download_serializer().loads(token, max_age=payload["t"])
        except (BadSignature, SignatureExpired):
            abort(404)
        name = payload.get("s", "default")
        store = storage_for(None if name == "default" else int(name))
        try:
            obj = store.head(payload["k"])
        except NotFound:
            abort(404)
        # Always a download, never rendered on this origin (an uploaded page cannot run here).
        filename = payload.get("f") or payload["k"].rsplit("/", 1)[-1]
        headers = {"Content-Length": str(obj.size), "X-Content-Type-Options": "nosniff",
                   "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
        return Response(store.stream(payload["k"]), mimetype=obj.content_type, headers=headers)
