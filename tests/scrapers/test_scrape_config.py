"""api_corpus/sources.toml: the shipped defaults load, and a bad file names itself and the line."""

import pytest

from gorilla_rag import settings
from gorilla_rag.scrapers import SCRAPERS, get_scraper
from gorilla_rag.scrapers.config import config_path, enabled_sources, load_config


def test_the_shipped_config_enables_every_source_with_online_defaults():
    config = load_config(settings.seed_corpus_dir().parent / "sources.toml")
    assert enabled_sources(config) == list(SCRAPERS)
    assert config["huggingface"]["endpoint"] == "https://huggingface.co" and config["huggingface"]["limit_per_tag"] > 0
    assert config["torchhub"]["location"].startswith("https://github.com/pytorch/hub/")
    assert config["tfhub"]["subdir"] == "assets/docs"
    for name in SCRAPERS:
        assert get_scraper(name, config[name]).source == name


def test_a_home_config_takes_precedence(tmp_path):
    (tmp_path / "api_corpus").mkdir()
    (tmp_path / "api_corpus" / "sources.toml").write_text("[tfhub]\nenabled = false\n[torchhub]\n")
    assert config_path(tmp_path) == tmp_path / "api_corpus" / "sources.toml"
    assert enabled_sources(load_config(home=tmp_path)) == ["torchhub"]


@pytest.mark.parametrize("text, message", [
    ("[torchhub]\nlocation = 'x'\n\n[npm]\nlimit = 3\n", r"sources.toml:4: unknown source \[npm\]"),
    ("[torchhub]\nlocation = \n", r"sources.toml: not valid TOML \(.*line 2"),
    ("torchhub = 3\n", r"sources.toml:1: torchhub must be a table"),
])
def test_bad_configs_name_file_and_line(tmp_path, text, message):
    (tmp_path / "sources.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(tmp_path / "sources.toml")


def test_unknown_scraper_names_the_choices():
    with pytest.raises(ValueError, match="choose one of huggingface, torchhub, tfhub"):
        get_scraper("npm", {})
