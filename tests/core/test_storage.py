"""Object storage on local disk and on a real S3 server (SeaweedFS), through one interface."""
import datetime as dt
import uuid

import pytest

from core import clock, storage


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return storage.LocalStorage(tmp_path / "storage")
    server = request.getfixturevalue("s3_server")
    s3 = storage.S3Storage(bucket=f"tabel-{uuid.uuid4().hex[:12]}", endpoint_url=server["endpoint_url"],
                           access_key=server["access_key"], secret_key=server["secret_key"], object_lock=True)
    s3.ensure_bucket()
    return s3


TEXT = "Сводная ведомость 5а класса: «отлично» — 12 человек".encode("utf-8")


def test_round_trip_keeps_cyrillic_content_and_metadata(store):
    stored = store.put("архив/2026/ведомость.txt", TEXT, content_type="text/plain; charset=utf-8",
                       metadata={"title": "Ведомость 5а", "act": "Приказ № 189"})
    assert stored.size == len(TEXT)
    head = store.head("архив/2026/ведомость.txt")
    assert head.metadata == {"title": "Ведомость 5а", "act": "Приказ № 189"}
    assert head.sha256 == stored.sha256 and head.size == len(TEXT)
    assert head.content_type.startswith("text/plain")
    assert store.get("архив/2026/ведомость.txt", verify=True) == TEXT
    assert b"".join(store.stream("архив/2026/ведомость.txt")) == TEXT


def test_listing_by_prefix(store):
    for key in ("school/12/a.pdf", "school/12/b.json", "school/31/c.pdf"):
        store.put(key, key.encode())
    assert [o.key for o in store.list("school/12/")] == ["school/12/a.pdf", "school/12/b.json"]
    assert {o.key for o in store.list("school/")} == {"school/12/a.pdf", "school/12/b.json", "school/31/c.pdf"}


def test_a_changed_object_fails_verification(store):
    store.put("journal.pdf", TEXT)
    tampered = TEXT.replace("12".encode(), "21".encode())
    if isinstance(store, storage.LocalStorage):
        (store.root / "journal.pdf").write_bytes(tampered)
    else:
        # Rewrite the bytes behind the storage layer's back, keeping the recorded checksum.
        head = store.client.head_object(Bucket=store.bucket, Key="journal.pdf")
        store.client.put_object(Bucket=store.bucket, Key="journal.pdf", Body=tampered, Metadata=head["Metadata"])
    assert store.get("journal.pdf") == tampered  # an unverified read returns what is there
    with pytest.raises(storage.ChecksumMismatch):
        store.get("journal.pdf", verify=True)


def test_deleting_and_missing_objects(store):
    store.put("tmp/x.txt", b"x")
    store.delete("tmp/x.txt")
    with pytest.raises(storage.NotFound):
        store.get("tmp/x.txt")
    with pytest.raises(storage.NotFound):
        store.head("tmp/x.txt")
    assert store.list("tmp/") == []


def test_a_retained_archive_cannot_be_deleted_before_its_date(store):
    """RT-2: S3 Object Lock (COMPLIANCE) on SeaweedFS; the same promise on local disk."""
    until = clock.now() + dt.timedelta(days=365 * 5)
    store.put("archive/2026/journal.pdf", TEXT, retain_until=until)
    assert store.head("archive/2026/journal.pdf").retain_until.date() == until.date()
    with pytest.raises(storage.ObjectLocked):
        store.delete("archive/2026/journal.pdf")
    assert store.get("archive/2026/journal.pdf", verify=True) == TEXT


@pytest.mark.parametrize("key", ["/etc/passwd", "../outside", "a/../../b", ""])
def test_keys_cannot_escape_the_store(tmp_path, key):
    with pytest.raises(storage.StorageError):
        storage.LocalStorage(tmp_path).put(key, b"x")


def test_each_region_can_have_its_own_bucket(app, s3_server, tmp_path):
    """PD-3: a region's files go to its own bucket; other regions use the default."""
    from core import create_app
    from tests.conftest import app_config

    configured = create_app(app_config(app.config["DATABASE_URL"], STORAGE_REGIONS={
        "7": {"backend": "s3", "bucket": "region-7", **s3_server}}, STORAGE={"backend": "local", "root": str(tmp_path)}))
    with configured.app_context():
        regional = storage.storage_for(7)
        assert isinstance(regional, storage.S3Storage) and regional.bucket == "region-7"
        assert isinstance(storage.storage_for(8), storage.LocalStorage)
        regional.ensure_bucket()
        regional.put("x.txt", "данные региона 7".encode())
        assert storage.storage_for(7).get("x.txt", verify=True).decode() == "данные региона 7"


def test_local_downloads_go_through_a_signed_expiring_link(app, tmp_path):
    from core import create_app
    from tests.conftest import app_config

    local_app = create_app(app_config(app.config["DATABASE_URL"], STORAGE={"backend": "local", "root": str(tmp_path)}))
    with local_app.test_request_context():
        store = storage.storage_for(None)
        store.put("отчёт.txt", TEXT, content_type="text/plain")
        url = store.download_url("отчёт.txt", filename="отчёт.txt")
    http = local_app.test_client()
    response = http.get(url)
    assert response.status_code == 200 and response.data == TEXT
    assert "filename*=UTF-8''%D0%BE%D1%82" in response.headers["Content-Disposition"]
    assert http.get(url[:-3] + "xyz").status_code == 404


def test_s3_downloads_are_presigned(s3_server):
    import urllib.request

    store = storage.S3Storage(bucket="presigned", endpoint_url=s3_server["endpoint_url"],
                              access_key=s3_server["access_key"], secret_key=s3_server["secret_key"])
    store.ensure_bucket()
    store.put("a.txt", TEXT)
    with urllib.request.urlopen(store.download_url("a.txt", expires_in=60)) as response:
        assert response.read() == TEXT


def test_a_regions_local_download_link_reads_from_that_regions_store(app, tmp_path):
    """PD-3: the link names its store; the same key in the default store is another file."""
    from core import create_app
    from tests.conftest import app_config

    configured = create_app(app_config(app.config["DATABASE_URL"],
                                       STORAGE={"backend": "local", "root": str(tmp_path / "default")},
                                       STORAGE_REGIONS={"7": {"backend": "local", "root": str(tmp_path / "r7")}}))
    with configured.test_request_context():
        storage.storage_for(None).put("a.html", b"<script>default</script>", content_type="text/html")
        storage.storage_for(7).put("a.html", "регион 7".encode(), content_type="text/html")
        url = storage.storage_for(7).download_url("a.html")
    response = configured.test_client().get(url)
    assert response.data.decode() == "регион 7"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_keys_are_listed_without_reading_each_object(store):
    """The audit anchors are many small objects: their listing must not cost a HEAD each."""
    for key in ("audit-anchors/20260101T000000.000000Z.json", "audit-anchors/20260101T010000.000000Z.json",
                "audit-anchorsX/other.json", "school/12/a.pdf"):
        store.put(key, b"{}")
    assert store.keys("audit-anchors/") == ["audit-anchors/20260101T000000.000000Z.json",
                                            "audit-anchors/20260101T010000.000000Z.json"]
    assert store.keys("nothing/") == []
    assert len(store.keys()) == 4


def test_on_disk_the_retention_ends_on_the_apps_clock(tmp_path, app_clock):
    """The local store judges a retention by ``core.clock`` (S3 by the server's own clock),
    so a test moves the clock past the date instead of waiting for it."""
    store = storage.LocalStorage(tmp_path / "storage")
    store.put("archive/2026/journal.pdf", TEXT, retain_until=clock.now() + dt.timedelta(days=1))
    with pytest.raises(storage.ObjectLocked):
        store.delete("archive/2026/journal.pdf")
    app_clock.advance(days=1, seconds=1)
    store.delete("archive/2026/journal.pdf")
    with pytest.raises(storage.NotFound):
        store.head("archive/2026/journal.pdf")
