"""Fetching for the scrapers: HTTP GET with timeouts, retries and backoff; doc pages from a folder, an archive or a URL.

Plain `urllib` on purpose: every request has a timeout, 429/5xx/timeouts are retried with exponential backoff
(honouring `Retry-After`), and an unusable answer becomes a `ScrapeError` naming the URL. A host name that does not
resolve (DNS) is not retried: that does not fix itself within seconds, so it fails at once as `HostNotFound`.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import io
import json
import random
import re
import socket
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gorilla_rag.scrapers import ScrapeError

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class HostNotFound(ScrapeError):
    """The host of a URL does not resolve: the machine is offline (no DNS) or the name is wrong. Never retried."""

    def __init__(self, url: str, host: str, reason: str) -> None:
        super().__init__(f"GET {url}: cannot resolve host {host!r} ({reason}): this machine appears to be offline, "
                         f"or the host name is wrong; not retried")
        self.url, self.host = url, host


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; malformed JSON is a ScrapeError naming the URL and position."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ScrapeError(f"GET {self.url}: answer is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise ScrapeError(f"GET {self.url}: malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
                              f"{self.body[:80]!r}") from exc

    def next_link(self) -> str | None:
        """The `rel="next"` URL of a paged answer (GitHub-style Link header), if any."""
        match = _LINK_NEXT.search(self.headers.get("Link", "") or self.headers.get("link", ""))
        return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Http:
    """GET with a per-request timeout and up to `retries` retries on 408/425/429/5xx, timeouts and resets (not on
    a host name that does not resolve: `HostNotFound` at once)."""

    timeout_s: float = 20.0
    retries: int = 4
    backoff_s: float = 1.0
    max_wait_s: float = 60.0
    user_agent: str = "gorilla-rag-scraper/0.1"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Http:
        """From a sources.toml table's `timeout_s`, `retries`, `backoff_s` and `max_wait_s` keys."""
        keys = ("timeout_s", "retries", "backoff_s", "max_wait_s")
        return cls(**{k: options[k] for k in keys if k in options})

    def get(self, url: str, missing_ok: bool = False) -> Response | None:
        """The answer to GET `url`; None for a 404 when `missing_ok`. Raises ScrapeError when it gives up."""
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"})
        for attempt in range(self.retries + 1):
            wait: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                    return Response(answer.geturl(), answer.status, dict(answer.headers.items()), answer.read())
            except urllib.error.HTTPError as exc:
                if exc.code == 404 and missing_ok:
                    return None
                if exc.code not in RETRY_STATUSES:
                    raise ScrapeError(f"GET {url}: HTTP {exc.code} {exc.reason}") from exc
                problem, wait = f"HTTP {exc.code} {exc.reason}", retry_after(exc.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException,
                    socket.gaierror) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, socket.gaierror):  # DNS: "Name or service not known", "Temporary failure…"
                    host = urllib.parse.urlsplit(f"//{request.host}").hostname or url  # a proxy's, if one is used
                    raise HostNotFound(url, host, reason.strerror or str(reason)) from exc
                problem = f"timed out after {self.timeout_s:g} s" if "timed out" in str(reason) else str(reason)
            if attempt == self.retries:
                break
            if wait is None:
                wait = self.backoff_s * 2**attempt * random.uniform(1.0, 1.25)
            time.sleep(min(wait, self.max_wait_s))
        raise ScrapeError(f"GET {url}: {problem} (gave up after {self.retries + 1} attempts)")


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Page:
    """One doc file: its path relative to the doc root (posix), and its text; `problem` says why a file could not
    be read as text (then `text` is empty and scrapers skip the page with a warning)."""

    path: str
    text: str
    problem: str = ""


def readable(pages: list[Page]) -> tuple[list[Page], list[str]]:
    """The pages that could be read, and a warning for each that could not (one bad file never stops a scrape)."""
    return [p for p in pages if not p.problem], [f"{p.path}: {p.problem}; skipped" for p in pages if p.problem]


def read_pages(location: str, suffixes: tuple[str, ...] = (".md",), subdir: str = "",
               http: Http | None = None) -> tuple[list[Page], dict[str, Any]]:
    """The doc files under `location` (a folder, a .tar[.gz] archive, or an http(s) URL of one), sorted by path.

    For archives (GitHub's have one top folder, which is dropped) only files under `subdir` are read.
    Returns the pages and an origin record for the corpus manifest.
    """
    if re.match(r"https?://", location):
        answer = (http or Http()).get(location)
        assert answer is not None
        pages = _archive_pages(answer.body, location, suffixes, subdir)
        return pages, {"location": location, "sha256": hashlib.sha256(answer.body).hexdigest()}
    path = Path(location).expanduser()
    if path.is_dir():
        root = path / subdir if subdir and (path / subdir).is_dir() else path
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(suffixes))
        pages = [Page(p.relative_to(root).as_posix(), *_decode(p.read_bytes())) for p in files]
        origin = {"location": str(path.resolve())}
    elif path.is_file():
        data = path.read_bytes()
        pages = _archive_pages(data, str(path), suffixes, subdir)
        origin = {"location": str(path.resolve()), "sha256": hashlib.sha256(data).hexdigest()}
    else:
        raise ScrapeError(f"{location}: no such folder, archive or URL")
    if not pages:
        raise ScrapeError(f"{location}: holds no {'/'.join(suffixes)} files" + (f" under {subdir}/" if subdir else ""))
    return pages, origin


def _archive_pages(data: bytes, where: str, suffixes: tuple[str, ...], subdir: str) -> list[Page]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
            tops = {m.name.split("/", 1)[0] for m in members}
            strip = len(tops) == 1 and all("/" in m.name for m in members)
            prefix = subdir.strip("/") + "/" if subdir else ""
            pages = []
            for member in members:
                name = member.name.split("/", 1)[1] if strip else member.name
                if not name.startswith(prefix) or not name.endswith(suffixes) or ".." in name.split("/"):
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    pages.append(Page(name[len(prefix):], *_decode(handle.read())))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ScrapeError(f"{where}: not a readable tar archive ({exc})") from exc
    return sorted(pages, key=lambda p: p.path)


def _decode(data: bytes) -> tuple[str, str]:
    """(text, "") or ("", why it is not text)."""
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return "", f"not UTF-8 ({exc.reason} at byte {exc.start})"
