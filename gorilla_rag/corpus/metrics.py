"""Numbers from free-form `performance` fields: parameter counts, FLOPs and accuracies, normalised on import."""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _NUMBER.search(value.replace(",", ""))
        if match and len(value) < 40:
            return float(match.group())
    return None


def _metric_name(path: str) -> tuple[str, float] | None:
    """Map a performance key path to (metric, scale); scale -1 means 'error: store 100 - value'."""
    key = path.lower().replace("_", "-").replace(" ", "-")
    if "param" in key:
        if re.search(r"\(m\)|-m$|million", key):
            return "params", 1e6
        if re.search(r"\(b\)|-b$|billion", key):
            return "params", 1e9
        return "params", 1.0
    if "flop" in key:
        return "flops_g", 1e-3 if re.search(r"\(m\)|mflop|-m$", key) else 1.0
    if "pixel" in key or "iou" in key:
        return None  # segmentation's pixel accuracy / IoU is no classification accuracy
    is_error = "err" in key
    for name, pattern in (("top1", r"top-?1|acc@1|acc1"), ("top5", r"top-?5|acc@5|acc5")):
        if re.search(pattern, key):
            return name, -1.0 if is_error else 1.0
    if key.endswith("accuracy") or key.endswith("acc") or key.endswith("acc."):
        return "accuracy", 1.0
    return None


_PERCENT_ONLY = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*(%?)\s*")
_LABELLED_TOP = re.compile(r"top[-\s]?([15])[^0-9%]{0,20}?(\d+(?:\.\d+)?)\s*%", re.IGNORECASE)
_ONE_PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*%")
# words saying a number in an "accuracy" field measures something else (APIBench puts any result there)
_OTHER_MEASURE = re.compile(r"correlation|pearson|spearman|\bf1\b|f-?score|bleu|rouge|cider|\bm?ap\b|\bwer\b|"
                            r"\bcer\b|loss|perplexity|reward|\+/-|±|\bfid\b|psnr|ssim|hours|dimension|resolution|"
                            r"subword|token|error|iou|intersection|\bmrr|improv|[+~]\s*\d|\d\s*x\s*\d", re.IGNORECASE)


def _percent(value: Any) -> float | None:
    """An accuracy as a percentage when the value plainly is one: 0.93, 93, '93.1', '93.1%'; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number, sign = float(value), False
    elif isinstance(value, str) and (match := _PERCENT_ONLY.fullmatch(value)):
        number, sign = float(match.group(1)), bool(match.group(2))
    else:
        return None
    if not sign and 0 < number <= 1:
        number *= 100.0  # fractions and percentages both occur; store percent
    return number if 0 < number <= 100 else None


def _accuracies_in_text(text: str) -> dict[str, float]:
    """'Top-1 Accuracy: 77.9%, Top-5 Accuracy: 93.7%' → top1/top5; one lone percentage → accuracy; else nothing."""
    found = {f"top{k}": float(v) for k, v in _LABELLED_TOP.findall(text) if float(v) <= 100}
    if found or _OTHER_MEASURE.search(text):
        return found
    percents = _ONE_PERCENT.findall(text)
    return {"accuracy": float(percents[0])} if len(percents) == 1 and float(percents[0]) <= 100 else {}


def _params(value: Any, scale: float) -> float | None:
    """A parameter count. A bare number below 10,000 is read as millions: TorchHub's video models write
    `"params": 34.57` for 34.57M, and no hub model has fewer than ten thousand parameters."""
    number = _number(value)
    if number is None or number <= 0:
        return None
    if isinstance(value, str) and re.search(r"\d\s*[mM]\b", value):
        scale = 1e6
    elif isinstance(value, str) and re.search(r"\d\s*[bB]\b", value):
        scale = 1e9
    if scale == 1.0 and number < 1e4:
        scale = 1e6
    return number * scale


_FLOPS_UNIT = {"k": 1e-6, "m": 1e-3, "g": 1.0, "b": 1.0, "t": 1e3}


def _flops_g(value: Any, scale: float) -> float | None:
    """GFLOPs. A unit on the value wins over the header's: '142M' (a results table's FLOPs column) is 0.142."""
    number = _number(value)
    if number is None:
        return None
    if isinstance(value, str) and (unit := re.search(r"\d\s*([kmgbt])(?:flops?)?\b", value, re.IGNORECASE)):
        scale = _FLOPS_UNIT[unit.group(1).lower()]
    return round(number * scale, 6)


def normalize_metrics(performance: Any) -> dict[str, float]:
    """Numbers from a free-form performance field: params (absolute count), flops_g, and top1/top5/accuracy in
    percent, only where the value plainly is that measure (a correlation, F1, BLEU, '42000 subwords' or '600
    GPU-hours' in an accuracy field is not an accuracy, and a wrong number would mislead constraint filters)."""
    metrics: dict[str, float] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}" if path else str(key))
            return
        named = _metric_name(path.rsplit(".", 1)[-1]) or _metric_name(path)
        if named is None:
            return
        name, scale = named
        if name == "params":
            result = _params(value, scale)
        elif name == "flops_g":
            result = _flops_g(value, scale)
        elif isinstance(value, str) and _percent(value) is None:
            for found, number in _accuracies_in_text(value).items():
                metrics.setdefault(found if scale > 0 else name, round(number if scale > 0 else 100 - number, 4))
            return
        else:
            result = _percent(value)
            result = None if result is None else (100.0 - result if scale < 0 else result)
        if result is not None:
            metrics.setdefault(name, round(result, 4))

    walk(performance, "")
    return metrics
