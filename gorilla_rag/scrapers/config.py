"""What to scrape: `api_corpus/sources.toml`, one table per source (see the file itself for every key)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from gorilla_rag import settings
from gorilla_rag.scrapers import SCRAPERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_NAME = "sources.toml"


def config_path(home: str | Path | None = None) -> Path:
    """The home's `api_corpus/sources.toml`, else the checkout's, else the copy shipped in the package."""
    candidates = [settings.paths(home).corpora / CONFIG_NAME, settings.seed_corpus_dir().parent / CONFIG_NAME,
                  settings.PACKAGE_DIR / CONFIG_NAME]
    return next((p for p in candidates if p.is_file()), candidates[-1])


def load_config(path: str | Path | None = None, home: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Source name → its table. A bad file raises ValueError naming the file and line."""
    path = Path(path) if path else config_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the sources config ({exc.strerror})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    for name, table in data.items():
        line = next((i for i, ln in enumerate(text.splitlines(), 1) if re.match(rf"\s*\[\s*{re.escape(name)}\s*\]", ln)),
                    1)
        if name not in SCRAPERS:
            raise ValueError(f"{path}:{line}: unknown source [{name}] (known: {', '.join(SCRAPERS)})")
        if not isinstance(table, dict):
            raise ValueError(f"{path}:{line}: {name} must be a table ([{name}]), not a {type(table).__name__}")
    return data


def enabled_sources(config: dict[str, dict[str, Any]]) -> list[str]:
    """Sources the config turns on (`enabled` defaults to true), in the registry's order."""
    return [name for name in SCRAPERS if name in config and config[name].get("enabled", True)]
