"""Which query encoder a new index records."""

from gorilla_rag import settings


def test_query_encoder_choice_env_trained_and_default(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.delenv("GORILLA_RAG_QUERY_ENCODER", raising=False)
    assert settings.query_encoder_name(home) is None  # fp32 document embedder
    assert settings.query_encoder_name(home, "all-MiniLM-L6-v2:int8") == "all-MiniLM-L6-v2:int8"
    assert settings.query_encoder_name(home, "base") is None and settings.query_encoder_name(home, "") is None
    monkeypatch.setenv("GORILLA_RAG_QUERY_ENCODER", "")  # empty counts as unset
    trained = home / "models" / settings.TRAINED_RETRIEVER
    trained.mkdir(parents=True)
    (trained / "config.json").write_text("{}")
    assert settings.query_encoder_name(home) == settings.TRAINED_RETRIEVER
    monkeypatch.setenv("GORILLA_RAG_QUERY_ENCODER", "fp32")
    assert settings.query_encoder_name(home) is None
    assert settings.query_encoder_name(home, "my-encoder") == "my-encoder"  # the command line wins
