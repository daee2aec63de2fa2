"""Metrics of a PyTorch Hub entry point from its page's results tables (Top-1 error, Top-5 acc., Params…).

Tables name models the way people write them, entry points the way Python does: "ResNeXt-101 32x8d" for
`resnext101_32x8d_wsl`, "GhostNet 1.0x" for `ghostnet_1x`, "SNNMLP Tiny" for `snnmlp_t`, "YOLOP(ours)" for `yolop`,
"X3D | S" (two columns) for `x3d_s`, "proxylessnas_cpu" for `proxyless_cpu`, "ResNet-18 | semi-weakly supervised"
for `resnet18_swsl`. A row names an entry point *exactly* when their letters and digits agree (case, separators,
links, a "(…)" remark and a ".0" aside). Failing that anywhere on the page, a row names it *loosely* when it is the
only row of its table that does and either

- every word of the entry point begins the row's word in its place (`t` "Tiny", `proxyless` "proxylessnas"), or
- the row names the entry point without its suffix, and the suffix is one every entry point on the page ends with
  (`_wsl`), or it is spelled by the initials of a text cell of the row ("semi-weakly supervised" → `swsl`), or the
  table has one row and the page one entry point ("shufflenet_v2" for `shufflenet_v2_x1_0`).

The numbers of every matching row (exact ones if any, else loose ones) are merged, the first value of a metric
winning; `normalize_metrics` reads them by column header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gorilla_rag.corpus.normalize import normalize_metrics
from gorilla_rag.scrapers.markdown import tables

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REMARK = re.compile(r"\([^)]*\)")
_POINT_ZERO = re.compile(r"(\d)\.0+(?![\d.])")  # "1.0x" → "1x" (while "1.0" also reads as "1_0": both are tried)
_WORD = re.compile(r"[a-z]+|\d+")


def entry_metrics(text: str, model: str, siblings: Sequence[str] = ()) -> dict[str, float]:
    """The metrics the page's tables give for entry point `model`; `siblings` are all the page's entry points."""
    wanted = tuple(_WORD.findall(model.lower()))
    others = [tuple(_WORD.findall(name.lower())) for name in siblings or (model,)]
    exact: list[dict[str, float]] = []
    loose: list[dict[str, float]] = []
    for table in tables(text):
        header, rows = table[0], [row for row in table[1:] if row and row[0]]
        fuzzy = []
        for row in rows:
            names = _names(header, row)
            if any("".join(name) == "".join(wanted) for name in names):
                exact.append(_numbers(header, row))
            elif any(_loosely(wanted, name, row, others, len(rows)) for name in names):
                fuzzy.append(row)
        if len(fuzzy) == 1:
            loose.append(_numbers(header, fuzzy[0]))
    metrics: dict[str, float] = {}
    for found in exact or loose:
        for key, value in found.items():
            metrics.setdefault(key, value)
    return metrics


def _numbers(header: list[str], row: list[str]) -> dict[str, float]:
    return normalize_metrics({h: v for h, v in zip(header[1:], row[1:]) if h})


def _names(header: list[str], row: list[str]) -> list[tuple[str, ...]]:
    """The word sequences a row's name may stand for: its first cell as written, without "(…)" remarks, with
    "1.0" read as "1", and with the second cell appended where that is a name part (X3D | S), not a number."""
    first = _LINK.sub(r"\1", row[0]).lower()
    texts = [first, _REMARK.sub(" ", first)]
    second = _LINK.sub(r"\1", row[1]).lower() if len(row) > 1 and len(header) > 1 else ""
    if re.search(r"[a-z]", second) and len(second) <= 20 and not normalize_metrics({header[1]: second}):
        texts.append(f"{first} {second}")
    texts += [_POINT_ZERO.sub(r"\1", t) for t in texts]
    return list(dict.fromkeys(tuple(_WORD.findall(t)) for t in texts if _WORD.search(t)))


def _loosely(wanted: tuple[str, ...], name: tuple[str, ...], row: list[str], others: list[tuple[str, ...]],
             rows: int) -> bool:
    """Does row `name` loosely name entry point `wanted` (see the module docstring)?"""
    if len(wanted) == len(name):
        return all(w == n or (w.isalpha() and n.isalpha() and n.startswith(w)) for w, n in zip(wanted, name))
    if not 0 < len(name) < len(wanted) or wanted[:len(name)] != name:
        return False
    suffix = "".join(wanted[len(name):])
    if len(others) > 1 and all("".join(other).endswith(suffix) for other in others):
        return True
    initials = ("".join(word[0] for word in re.findall(r"[a-z]+", cell.lower())) for cell in row[1:]
                if not re.search(r"\d", cell))
    if any(len(letters) >= 2 and suffix.startswith(letters) for letters in initials):
        return True
    return rows == 1 and len(others) == 1
