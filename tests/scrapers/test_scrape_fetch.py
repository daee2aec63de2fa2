"""Http retries and page reading, against a real local HTTP server and real archives."""

import io
import socket
import tarfile
import time

import pytest
from support import Reply

from gorilla_rag.scrapers import ScrapeError
from gorilla_rag.scrapers.fetch import HostNotFound, Http, read_pages, readable, retry_after

FAST = Http(timeout_s=0.5, retries=2, backoff_s=0.01)


def test_429_waits_for_retry_after_then_succeeds(hub_server):
    hub_server.add("/x", Reply(429, "slow down", {"Retry-After": "1"}), Reply(200, {"ok": True}))
    started = time.monotonic()
    answer = FAST.get(f"{hub_server.url}/x")
    assert answer.json() == {"ok": True}
    assert hub_server.hits("/x") == 2 and hub_server.times[1] - hub_server.times[0] >= 0.95
    assert time.monotonic() - started < 5


def test_5xx_is_retried_with_backoff_and_then_given_up(hub_server):
    hub_server.add("/flaky", Reply(503), Reply(502), Reply(200, "fine"))
    assert FAST.get(f"{hub_server.url}/flaky").body == b"fine"
    hub_server.add("/down", Reply(500, "boom"))
    with pytest.raises(ScrapeError, match=r"/down: HTTP 500 .*gave up after 3 attempts"):
        FAST.get(f"{hub_server.url}/down")
    assert hub_server.hits("/down") == 3


def test_timeouts_are_retried_and_reported(hub_server):
    hub_server.add("/slow", Reply(200, "late", delay_s=1.0), Reply(200, "quick"))
    assert FAST.get(f"{hub_server.url}/slow").body == b"quick"
    hub_server.add("/stuck", Reply(200, "never", delay_s=1.0))
    with pytest.raises(ScrapeError, match=r"/stuck: timed out after 0.5 s \(gave up after 3 attempts\)"):
        FAST.get(f"{hub_server.url}/stuck")


def _counting_lookups(monkeypatch, fail_with=None):
    """Count DNS lookups (socket.getaddrinfo); with `fail_with`, every lookup raises that gaierror."""
    calls = []
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        calls.append(host)
        if fail_with is not None:
            raise fail_with
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return calls


def test_an_unresolvable_host_fails_at_once_naming_it(monkeypatch):
    lookups = _counting_lookups(monkeypatch)
    started = time.monotonic()
    with pytest.raises(HostNotFound, match=r"cannot resolve host 'nonexistent.invalid' \(.*\): this machine appears "
                                           r"to be offline, or the host name is wrong; not retried") as caught:
        Http().get("http://nonexistent.invalid/api/models")  # defaults: 4 retries, 1 s backoff (~18 s if retried)
    assert time.monotonic() - started < 10 and lookups == ["nonexistent.invalid"]
    assert caught.value.host == "nonexistent.invalid" and isinstance(caught.value, ScrapeError)


def test_a_temporary_dns_failure_is_not_retried_either(monkeypatch):
    lookups = _counting_lookups(monkeypatch, socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    with pytest.raises(HostNotFound, match=r"'hub.example' \(Temporary failure in name resolution\)"):
        Http(backoff_s=5.0).get("https://hub.example/x")
    assert lookups == ["hub.example"]


def test_client_errors_fail_at_once_and_404_can_be_expected(hub_server):
    hub_server.add("/gone", Reply(404, "no"))
    assert FAST.get(f"{hub_server.url}/gone", missing_ok=True) is None
    with pytest.raises(ScrapeError, match="HTTP 404"):
        FAST.get(f"{hub_server.url}/gone")
    hub_server.add("/private", Reply(401, "no"))
    with pytest.raises(ScrapeError, match="HTTP 401"):
        FAST.get(f"{hub_server.url}/private")
    assert hub_server.hits("/private") == 1


def test_malformed_json_names_the_url_and_position(hub_server):
    hub_server.add("/api", Reply(200, '[{"id": "a"},'))
    with pytest.raises(ScrapeError, match=r"/api: malformed JSON \(.* at line 1 column 14\)"):
        FAST.get(f"{hub_server.url}/api").json()


def test_retry_after_parses_seconds_and_dates():
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after("soon") is None and retry_after(None) is None


def _tar(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


ARCHIVE = {"repo-main/assets/docs/a/models/x/1.md": "# Module a/x/1\n", "repo-main/assets/docs/b.md": "# B\n",
           "repo-main/README.md": "# readme\n", "repo-main/assets/docs/c.txt": "not markdown"}


def test_read_pages_from_an_archive_url_strips_the_top_folder_and_keeps_the_subdir(hub_server):
    hub_server.add("/archive.tar.gz", Reply(200, _tar(ARCHIVE)))
    pages, origin = read_pages(f"{hub_server.url}/archive.tar.gz", subdir="assets/docs", http=FAST)
    assert [p.path for p in pages] == ["a/models/x/1.md", "b.md"]
    assert pages[0].text == "# Module a/x/1\n" and len(origin["sha256"]) == 64


def test_read_pages_from_a_folder_and_an_archive_file_agree(tmp_path):
    (tmp_path / "archive.tgz").write_bytes(_tar(ARCHIVE))
    from_archive, _ = read_pages(str(tmp_path / "archive.tgz"), subdir="assets/docs")
    folder = tmp_path / "docs"
    for page in from_archive:
        (folder / page.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / page.path).write_text(page.text)
    from_folder, origin = read_pages(str(folder), subdir="assets/docs")  # subdir absent in a folder: its root
    assert from_folder == from_archive and origin["location"] == str(folder.resolve())


def test_read_pages_reports_unusable_locations(tmp_path, hub_server):
    with pytest.raises(ScrapeError, match="no such folder, archive or URL"):
        read_pages(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScrapeError, match="holds no .md files"):
        read_pages(str(tmp_path / "empty"))
    (tmp_path / "bad.tar.gz").write_bytes(b"not an archive at all")
    with pytest.raises(ScrapeError, match="bad.tar.gz: not a readable tar archive"):
        read_pages(str(tmp_path / "bad.tar.gz"))
    (tmp_path / "latin").mkdir()
    (tmp_path / "latin" / "page.md").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "latin" / "fine.md").write_text("café")
    pages, _ = read_pages(str(tmp_path / "latin"))  # one bad file is reported, the others are read
    good, warnings = readable(pages)
    assert [p.text for p in good] == ["café"] and len(warnings) == 1
    assert warnings[0].startswith("page.md: not UTF-8") and warnings[0].endswith("at byte 3); skipped")
    hub_server.add("/missing.tar.gz", Reply(404))
    with pytest.raises(ScrapeError, match="HTTP 404"):
        read_pages(f"{hub_server.url}/missing.tar.gz", http=FAST)
