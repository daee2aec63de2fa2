"""`gorilla-rag eval abstention`: how well an index tells your in-scope questions from your out-of-scope requests.

Each question gets the signal the pipeline abstains on (Index.best_similarity, with the same source filter); a
question naming one of its candidate models is answered whatever the threshold, as `ask` does
(retrieval/model_names.py). The report gives the trade-off curve, the rates at the index's threshold, and the
highest threshold that wrongly abstains on at most `max_in_scope` of the in-scope questions (the one catching the
most out-of-scope requests under that bound); `save` keeps it as the index's own threshold (index.json,
"user_calibration") for the signal and query encoder it was measured with, until the next `index build`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gorilla_rag.corpus.store import FileFormatError, iter_jsonl
from gorilla_rag.errors import CorpusError

CURVE_POINTS = 12
MIN_ADVISED = 50  # fewer in-scope questions, and one question moves the rate by 2 points or more


def load_question_lines(path: str | Path) -> list[str]:
    """Questions from a file: JSON lines (`.jsonl`/`.json`: objects with "question", or APIBench's "code") or
    plain text, one question per line ('#' lines and blank lines skipped). Bad lines are reported with their
    number; an empty file is an error."""
    from gorilla_rag.evaluation.questions import question_text

    path = Path(path)
    texts: list[str] = []
    if path.suffix in (".jsonl", ".json"):
        problems: list[str] = []
        for number, record in iter_jsonl(path, problems, what="question file"):
            text = record.get("question") if isinstance(record, dict) else record
            if isinstance(record, dict) and text is None and "code" in record:
                text = question_text(str(record["code"]))
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{path}:{number}: expected a JSON string or an object with a 'question' text")
                continue
            texts.append(text.strip())
        if problems:
            raise CorpusError(problems, what=f"question file {path}")
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"question file {path} cannot be read ({exc})") from None
        texts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not texts:
        raise FileFormatError(f"question file {path} holds no questions")
    return texts


@dataclass(frozen=True, slots=True)
class Scored:
    """Per question: the abstention signal, and whether it names a candidate model (answered regardless)."""

    signal: np.ndarray
    named: np.ndarray

    def abstained(self, threshold: float) -> float:
        return float(((self.signal < threshold) & ~self.named).mean()) if len(self.signal) else 0.0


def score(index, questions: list[str], source: str | None = None) -> Scored:  # noqa: ANN001
    from gorilla_rag.retrieval import Filters
    from gorilla_rag.retrieval.model_names import named_model

    filters = Filters.make(source)
    signal, named = [], []
    for question in questions:
        hits = index.search(question, 5, filters=filters)
        signal.append(index.best_similarity(question, filters) if hits else -1.0)
        named.append(bool(hits) and named_model(question, [h.doc for h in hits], index.docs) is not None)
    return Scored(np.array(signal), np.array(named, dtype=bool))


def recommend(in_scope: Scored, max_in_scope: float) -> float:
    """The highest threshold (to 0.001) wrongly abstaining on at most `max_in_scope` of the in-scope questions."""
    values = np.sort(in_scope.signal[~in_scope.named])
    if not len(values):
        return 0.0
    allowed = int(np.floor(max_in_scope * len(in_scope.signal) + 1e-9))  # questions that may fall below it
    if allowed >= len(values):
        return float(np.floor(values[-1] * 1000) / 1000)
    return float(np.floor(values[allowed] * 1000) / 1000)  # just at the (allowed+1)-th lowest: it stays answered


def report(index, in_scope: Scored, out_of_scope: Scored | None, max_in_scope: float) -> dict:  # noqa: ANN001
    """Rates at the index's threshold and the recommended one, and the curve between the signals seen."""
    def at(threshold: float) -> dict:
        row = {"threshold": round(threshold, 3), "in_scope_abstained": in_scope.abstained(threshold)}
        if out_of_scope is not None:
            row["out_of_scope_abstained"] = out_of_scope.abstained(threshold)
        return row

    seen = np.concatenate([in_scope.signal] + ([out_of_scope.signal] if out_of_scope is not None else []))
    low, high = float(np.quantile(seen, 0.02)), float(np.quantile(seen, 0.98))
    recommended = recommend(in_scope, max_in_scope)
    calibration = index.abstention_calibration
    out = {"index": str(index.folder), "signal": index.abstention_signal,
           "query_encoder": index.dense.query_embedder.name,
           "in_scope": len(in_scope.signal), "out_of_scope": len(out_of_scope.signal) if out_of_scope else 0,
           "named_a_model": {"in_scope": int(in_scope.named.sum()),
                             "out_of_scope": int(out_of_scope.named.sum()) if out_of_scope else 0},
           "current": {**at(index.abstention_threshold),
                       "set_by": calibration.describe() if calibration else "the default for this signal"},
           "recommended": {**at(recommended), "max_in_scope": max_in_scope},
           "curve": [at(t) for t in np.linspace(low, high, CURVE_POINTS)]}
    if len(in_scope.signal) < MIN_ADVISED:
        out["warning"] = (f"only {len(in_scope.signal)} in-scope questions: each moves the rate by "
                          f"{1 / len(in_scope.signal):.1%}; {MIN_ADVISED} or more give a steadier threshold")
    return out


def save(index, result: dict) -> None:  # noqa: ANN001
    """Keep the recommended threshold as the index's own (index.json, written atomically)."""
    from gorilla_rag.retrieval.abstention import Calibration

    best = result["recommended"]
    calibration = Calibration(best["threshold"], result["in_scope"], result["query_encoder"],
                              best["in_scope_abstained"], result["signal"], result["out_of_scope"],
                              best.get("out_of_scope_abstained", 0.0))
    path = Path(index.folder) / "index.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["user_calibration"] = calibration.to_dict()
    staged = path.with_name(".index.json.tmp")
    staged.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(staged, path)
    index.manifest["user_calibration"] = calibration.to_dict()
    index.user_calibration = calibration


def format_report(result: dict) -> str:
    def rates(row: dict) -> str:
        out = f"  out-of-scope abstained {row['out_of_scope_abstained']:.1%}" if "out_of_scope_abstained" in row else ""
        return f"in-scope wrongly abstained {row['in_scope_abstained']:.1%}{out}"

    lines = [f"index {result['index']}: signal {result['signal']}, questions read by {result['query_encoder']}",
             f"{result['in_scope']} in-scope questions, {result['out_of_scope']} out-of-scope requests "
             f"({result['named_a_model']['in_scope']} / {result['named_a_model']['out_of_scope']} name a candidate "
             "model: answered whatever the threshold)",
             f"now:         {result['current']['threshold']:.3f}  {rates(result['current'])}  "
             f"({result['current']['set_by']})",
             f"recommended: {result['recommended']['threshold']:.3f}  {rates(result['recommended'])}  "
             f"(the highest with at most {result['recommended']['max_in_scope']:.1%} of in-scope questions abstained)",
             "curve:"]
    lines += [f"  {row['threshold']:.3f}  {rates(row)}" for row in result["curve"]]
    if "warning" in result:
        lines.append(f"warning: {result['warning']}")
    if "saved" in result:
        lines.append(result["saved"])
    return "\n".join(lines)
