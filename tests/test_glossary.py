import json

import pytest

from rag.errors import RagError
from rag.glossary import read_aliases

from .conftest import REPO


def test_seed_glossary_is_read():
    assert read_aliases(REPO / "seeds")["DeepSeek"] == ["DepSIC"]


def test_glossaries_merge_and_bad_files_are_named(tmp_path):
    (tmp_path / "a.aliases.json").write_text(json.dumps({"DeepSeek": ["DepSIC"]}))
    (tmp_path / "b.aliases.json").write_text(json.dumps({"DeepSeek": ["Deep Sik", "DepSIC"]}))
    assert read_aliases(tmp_path) == {"DeepSeek": ["DepSIC", "Deep Sik"]}
    (tmp_path / "c.aliases.json").write_text("[1, 2]")
    with pytest.raises(RagError, match="c.aliases.json"):
        read_aliases(tmp_path)
