"""Retrieval-aware examples: gold docs among real distractors, irrelevance examples, a fixed split by question."""

from __future__ import annotations

import pytest

from gorilla_rag.evaluation.questions import load_questions
from gorilla_rag.generation.extractive import ExtractiveGenerator
from gorilla_rag.generation.prompt import PROMPT_DOCS, parse_output, prompt_docs
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.training.rat_data import (
    GoldPair,
    SftExample,
    build_examples,
    gold_pairs,
    read_examples,
    split_by_question,
    write_examples,
)
from gorilla_rag.verify import Verifier

from .conftest import QUESTIONS, write_question_file


class Recorder:
    """Answers extractively and keeps the docs a model would have been shown."""

    name = "recorder"

    def generate(self, question, hits, feedback=None):
        self.shown = prompt_docs(hits)
        return ExtractiveGenerator().generate(question, hits)


@pytest.mark.slow
def test_examples_show_what_the_pipeline_shows_with_the_gold_doc_put_in(seed_index, tmp_path):
    questions = load_questions(write_question_file(tmp_path / "q.json", {d.api_call: d for d in seed_index.docs}))
    verifier = Verifier(seed_index.docs)
    pairs, skipped = gold_pairs(questions, verifier, "huggingface")
    assert skipped == 0 and [p.gold.api_call for p in pairs] == [call for _, call in QUESTIONS]
    assert parse_output(pairs[0].target).explanation == "Loads opus-mt-en-fr for this task."  # the record's own
    examples = build_examples(pairs, seed_index, source="huggingface", seed=3)
    irrelevant = [e for e in examples if not e.gold_id]
    assert len(irrelevant) == 1 and all(len(e.docs) == PROMPT_DOCS for e in examples)
    recorder = Recorder()
    pipeline = Pipeline(seed_index, generator=recorder, min_similarity=0)
    retrieved_gold = 0
    for example, pair in zip(examples, pairs, strict=True):
        pipeline.ask(example.question, source="huggingface")
        shown_keys = [verifier.key_of(d) for d in recorder.shown]
        others = [d for d, key in zip(recorder.shown, shown_keys) if key != pair.key]
        assert all(d.source == "huggingface" for d in example.docs)
        if not example.gold_id:  # no gold API among the docs; the answer is the explicit no-match
            assert pair.key not in {verifier.key_of(d) for d in example.docs}
            assert parse_output(example.target).call == "" and list(example.docs[:len(others)]) == others
        elif pair.key in shown_keys:  # the retriever found it: exactly the pipeline's prompt
            retrieved_gold += 1
            assert list(example.docs) == recorder.shown
        else:  # it did not: the gold doc put in among the pipeline's best other docs
            assert pair.gold in example.docs and [d for d in example.docs if d != pair.gold] == others[:2]
    assert retrieved_gold >= 6
    assert {e.question for e in irrelevant} != {e.question for e in build_examples(pairs, seed_index, seed=4)
                                                if not e.gold_id}


@pytest.mark.slow
def test_a_gold_doc_the_retriever_missed_is_put_in(seed_index):
    gold = next(d for d in seed_index.docs if d.id == "torchhub:pytorch/vision:resnet50")
    pair = GoldPair("translate English text into French", gold, Verifier([gold]).key_of(gold), "target")
    example, = build_examples([pair], seed_index, irrelevant=0.0)
    assert gold in example.docs and len(example.docs) == PROMPT_DOCS and example.gold_id == gold.id
    with pytest.raises(ValueError, match="between 0 and 1"):
        build_examples([pair], seed_index, irrelevant=1.5)


def test_the_split_is_by_question_fixed_and_seeded():
    examples = [SftExample(f"question {i % 500}", (), "t", "x") for i in range(1000)]
    train, held = split_by_question(examples, 0.1, seed=0)
    assert len(train) + len(held) == 1000 and 60 <= len(held) <= 140
    assert not {e.question for e in train} & {e.question for e in held}  # both copies land on one side
    assert split_by_question(list(reversed(examples)), 0.1, seed=0)[1] == list(reversed(held))
    assert split_by_question(examples, 0.1, seed=1)[1] != held
    assert split_by_question(examples, 0.0)[1] == []
    with pytest.raises(ValueError, match="held-out share"):
        split_by_question(examples, 1.0)


def test_examples_round_trip_and_bad_lines_are_named(seed_docs, tmp_path):
    examples = [SftExample("q", tuple(seed_docs[:2]), "<<<api_call>>>: None", ""),
                SftExample("p", tuple(seed_docs[2:5]), "target", seed_docs[3].id)]
    path = tmp_path / "train.jsonl"
    assert write_examples(path, examples) == 2 and read_examples(path) == examples
    path.write_text(path.read_text() + "{\"question\": 1}\n")
    with pytest.raises(ValueError, match=r"train.jsonl:3: not a training example"):
        read_examples(path)


@pytest.mark.slow
@pytest.mark.parametrize("questions, source", [("eval/tensorflow_dev.json", "tfhub"),
                                               ("train/torchhub_train.json", "torchhub")])
def test_apibench_questions_become_pairs_with_their_own_answers(apibench_dir, questions, source, tmp_path):
    from gorilla_rag.corpus.apibench import import_apibench
    from gorilla_rag.corpus.store import read_corpus

    import_apibench(str(apibench_dir / "api"), tmp_path / "corpus", sources=(source,), skip_invalid=True)
    verifier = Verifier(read_corpus(tmp_path / "corpus"))
    asked = load_questions(apibench_dir / questions)[:300]
    pairs, skipped = gold_pairs(asked, verifier, source)
    assert len(pairs) >= 0.9 * len(asked) and skipped == len(asked) - len(pairs)
    own = 0
    for pair in pairs:
        parsed = parse_output(pair.target)
        assert verifier.identify_text(parsed.call).key == pair.key
        own += parsed.code != "" and parsed.call != pair.gold.api_call
    assert own > 0  # the questions' own calls and code, not only the docs'
