"""Load on the HTTP server: concurrent clients asking POST /v1/ask over loopback.

Starts `gorilla-rag serve` as its own process over a temp home (seed corpus), measures one client asking in turn,
then N clients at once (each asking its requests in turn, bounded by a time cap), and reports throughput, p50/p99
latency, errors and the server's peak RSS (VmHWM from /proc). Every question is distinct, so the query-vector
cache never answers one. Writes the 'server-load' section of docs/benchmarks.md.

    python bench/bench_server_load.py                 # 1 and 2 workers; 32 clients x 20 requests, 120 s cap
    python bench/bench_server_load.py --clients 8 --requests 10 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "interfaces"))  # the tests' server launcher
from common import machine, table, write_section  # noqa: E402
from serverproc import API_KEY, running_server  # noqa: E402

TASKS = [
    "translate English text to French", "segment the people in a street photo", "estimate depth from one photo",
    "detect objects in images", "classify the sentiment of tweets", "classify images of animals",
    "summarize a long news article", "answer questions about a paragraph", "transcribe speech from an audio file",
    "generate text from a prompt", "embed sentences to compare their meaning", "recognise named entities",
    "classify audio clips", "caption an image", "fill in the masked word of a sentence",
    "classify images with a small mobile model", "detect faces in a photo", "translate German to English",
    "answer questions about an image", "zero-shot classify a piece of text", "extract features from images",
    "segment objects in a scene", "tokenize and embed text for search", "recognise handwritten digits",
]


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a `--workers N` server's worker processes), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sorted(tree)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its descendants have used, from /proc/<pid>/stat."""
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def peak_rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB of a process and its descendants, from /proc/<pid>/status (peaks summed)."""
    now = peak = 0.0
    for member in process_tree(pid):
        try:
            text = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        now += int(fields["VmRSS"].split()[0]) / 1024
        peak += int(fields["VmHWM"].split()[0]) / 1024
    return now, peak


async def run_clients(url: str, clients: int, requests: int, cap_s: float, tag: str) -> dict:
    """`clients` clients each asking `requests` distinct questions in turn; none started after `cap_s` seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120,
                                 limits=limits) as client:
        started = time.perf_counter()

        async def one_client(c: int) -> None:
            for r in range(requests):
                if time.perf_counter() - started > cap_s:
                    return
                question = f"{TASKS[(c + r) % len(TASKS)]} ({tag} client {c} request {r})"
                sent = time.perf_counter()
                try:
                    reply = await client.post("/v1/ask", json={"question": question})
                    if reply.status_code != 200:
                        errors.append(f"{reply.status_code} {reply.text[:200]}")
                        continue
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(one_client(c) for c in range(clients)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {"clients": clients, "ok": len(latencies), "errors": errors, "seconds": elapsed,
            "throughput": len(latencies) / elapsed, "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    parser.add_argument("--single", type=int, default=60, help="requests of the single-client run")
    parser.add_argument("--time-cap", type=float, default=120, help="seconds after which no request is started")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server processes, one run each")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    configs = []
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            home.mkdir()
            with running_server(home, "--reload-interval", "0", "--workers", str(workers)) as server:
                pid = server.process.pid
                asyncio.run(run_clients(server.url, 4, 5, args.time_cap, "warm-up"))
                rss_idle, _ = peak_rss_mib(pid)
                load = os.getloadavg()[0]
                runs = []
                for clients, requests, tag in ((1, args.single, "single"), (args.clients, args.requests, "load")):
                    used = cpu_seconds(pid)
                    runs.append(asyncio.run(run_clients(server.url, clients, requests, args.time_cap, tag)))
                    runs[-1]["cpu_ms"] = (cpu_seconds(pid) - used) * 1000 / max(runs[-1]["ok"], 1)
                    runs[-1]["cores"] = (cpu_seconds(pid) - used) / runs[-1]["seconds"]
                _, rss_peak = peak_rss_mib(pid)
        configs.append({"workers": workers, "single": runs[0], "many": runs[1], "rss_idle": rss_idle,
                        "rss_peak": rss_peak, "load": load, "ratio": runs[1]["p99"] / runs[0]["p50"]})
    rows = [[c["workers"], r["clients"], r["ok"], len(r["errors"]), f"{r['throughput']:.1f}", f"{r['p50']:.1f}",
             f"{r['p99']:.1f}", f"{r['cpu_ms']:.1f}", f"{r['cores']:.2f}"]
            for c in configs for r in (c["single"], c["many"])]
    first, many = configs[0], configs[0]["many"]
    body = "\n".join([
        "## HTTP server under load (`bench/bench_server_load.py`)", "",
        f"`POST /v1/ask` over loopback, seed index (70 APIs), extractive generator, every question distinct; "
        f"`serve --workers N` for each N, one after the other in one run. Machine: {machine()}; load average "
        f"{first['load']:.1f} when it started (the cores are shared with the load generator).", "",
        table(["workers", "clients", "requests ok", "errors", "requests/s", "p50 ms", "p99 ms",
               "server CPU ms/request", "server cores busy"], rows), "",
        *[f"- {c['workers']} worker(s): p99 at {args.clients} clients is {c['ratio']:.1f}x the single-client p50 "
          f"(goal: under 10x: {'met' if c['ratio'] < 10 else 'missed'}); {len(c['many']['errors'])} errors; "
          f"RSS {c['rss_idle']:.0f} MiB after warm-up, peak {c['rss_peak']:.0f} MiB (all processes)." for c in configs],
        "- The server runs the pipeline in FastAPI's thread pool with one torch intra-op thread, and encodes the "
        "questions that arrive together in one batch (`BatchingEmbedder`, bf16 on this CPU when it has bf16).",
        f"- With {first['workers']} worker(s) at {args.clients} clients the server kept {many['cores']:.2f} of "
        f"{os.cpu_count()} cores busy: throughput = cores it gets / CPU per request ({many['cores']:.2f} / "
        f"{many['cpu_ms']:.1f} ms = {many['cores'] * 1000 / many['cpu_ms']:.0f}/s), and with closed-loop clients "
        "latency = clients / throughput: the 10x goal needs throughput of at least clients / (10 x single p50).",
    ])
    print(body)
    for error in [e for c in configs for e in c["many"]["errors"]][:5]:
        print("error:", error, file=sys.stderr)
    if not args.no_write:
        write_section("server-load", body)


if __name__ == "__main__":
    main()
