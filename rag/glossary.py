"""Aliases: how a transcript spells names that people type differently.

Transcribers mishear names ("DepSIC" for DeepSeek, "RM" for R1). A user
keeps a small JSON file beside a transcript, ``<stem>.aliases.json``, mapping
the name people know to the transcript's spellings. The answer prompt then
tells the model which spellings mean the same thing, when the question
mentions either form. This module only reads the files and matches names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import RagError


def read_aliases(sources: Path) -> dict[str, list[str]]:
    """Merge every ``*.aliases.json`` in the sources folder: {known name: [transcript spellings]}."""
    aliases: dict[str, list[str]] = {}
    for path in sorted(Path(sources).glob("*.aliases.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
                raise ValueError
        except OSError as error:
            raise RagError(
                f"cannot read {path} ({error.strerror or error}); make it a readable file or remove it"
            ) from None
        except (ValueError, RecursionError):
            raise RagError(
                f'{path} is not a JSON object of lists like {{"DeepSeek": ["DepSIC"]}}; fix or remove it'
            ) from None
        for name, spellings in data.items():
            aliases.setdefault(name, [])
            aliases[name] += [s for s in spellings if s not in aliases[name]]
    return aliases


def mentions(text: str, name: str) -> bool:
    if re.fullmatch(r"[\w.-]+", name, re.ASCII):
        return re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None
    return name.lower() in text.lower()


def alias_notes(question: str, aliases: dict[str, list[str]]) -> list[str]:
    """Sentences for the prompt, one per alias group the question mentions under any of its names."""
    notes = []
    for name, spellings in aliases.items():
        if any(mentions(question, n) for n in [name, *spellings]):
            quoted = " or ".join(f'"{s}"' for s in spellings)
            notes.append(f"In this transcript, {name} is spelled {quoted}.")
    return notes
