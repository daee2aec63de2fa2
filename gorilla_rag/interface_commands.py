"""The `serve` (HTTP API) and `mcp` (stdio, for coding agents) commands; the servers load only when they run."""

from __future__ import annotations

import argparse
import logging
import sys

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _log_to_stderr(form: str) -> None:
    """Our messages (index reloads, failures) at INFO; libraries only when something is wrong."""
    logging.basicConfig(level=logging.WARNING, format=form, stream=sys.stderr)
    logging.getLogger("gorilla_rag").setLevel(logging.INFO)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API (ask, search, verify, index, OpenAI-compatible chat) on 127.0.0.1 by default."""
    from gorilla_rag import settings
    from gorilla_rag.errors import GorillaError
    from gorilla_rag.server import create_app, log

    try:
        import uvicorn
    except ImportError as exc:
        raise GorillaError("the HTTP server needs uvicorn: pip install 'gorilla-rag[server]'") from exc
    _log_to_stderr("%(levelname)s:     %(message)s")
    if args.host not in LOOPBACK and not settings.api_key():
        log.warning("serving on %s without an API key: anyone who reaches it can use it (set GORILLA_RAG_API_KEY)",
                    args.host)
    # Keep-alive longer than clients' pool expiry (httpx: 5 s, as uvicorn's default): a client reusing a
    # connection the server is closing at the same moment gets a failed request.
    options = {"host": args.host, "port": args.port, "log_level": "info", "access_log": not args.no_access_log,
               "timeout_keep_alive": 30}
    if args.workers > 1:
        from gorilla_rag.server_workers import check_index, run_workers

        check_index(args.home, args.index)  # a missing or stale index is reported here, once, before workers start
        run_workers(args.workers, args.index, args.generator, args.reload_interval, **options)
        return 0
    app = create_app(args.home, args.index, args.generator, reload_interval=args.reload_interval)
    app.state.serving.load()  # a missing or stale index is reported here, as one line, before the port is bound
    uvicorn.run(app, **options)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve MCP tools over stdio for coding agents: find_api_call, search_apis, verify_code."""
    from gorilla_rag.mcp_server import create_server

    _log_to_stderr("gorilla-rag: %(message)s")
    create_server(args.home, args.index, args.generator, reload_interval=args.reload_interval).run("stdio")
    return 0


def add_commands(sub: argparse._SubParsersAction, groups: dict, command) -> None:  # noqa: ANN001
    """Add `serve` and `mcp` as top-level commands."""
    from gorilla_rag.cli_types import port_number, positive_int

    serve = command("serve", cmd_serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    serve.add_argument("--no-access-log", action="store_true", help="do not log one line per request")
    serve.add_argument("--workers", type=positive_int, default=1,
                       help="server processes sharing the port, each with its own copy of the index (default 1; one "
                            "process keeps about one core busy, so use up to the number of cores)")
    mcp = command("mcp", cmd_mcp)
    for parser in (serve, mcp):
        parser.add_argument("--index", help="index name under the home, or a folder (default: the default index)")
        parser.add_argument("--generator", default="extractive", help="generator spec (default: extractive)")
        parser.add_argument("--reload-interval", type=float, default=2.0,
                            help="seconds between checks for a new version of the index (default 2; 0: never)")
