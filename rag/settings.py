"""Every setting, declared once: name, type, default, allowed range, help.

Each value comes from, in order: a command-line flag, the environment
variable ``RAG_<NAME>``, then the default. The flags (`add_arguments`), the
environment variables and the settings table of the README (`markdown_table`)
are all derived from the declaration below, so they cannot disagree.

Folders default to the user's working directory: ``./seeds`` (the library of
transcripts), ``./index`` and ``./.models``, or the same names under
``--data-dir`` / ``RAG_DATA_DIR``. Nothing here loads a model or touches the disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import UsageError

PATHS, INDEX, RETRIEVAL, GENERATION = "paths", "index", "retrieval", "generation"


def option(default, help: str, group: str, *, flag: str = "", short: str = "", minimum=None, choices=()):
    """A settings field: its default and what the flag, the variable and the docs say about it."""
    metadata = {"help": help, "group": group, "flag": flag, "short": short, "minimum": minimum, "choices": choices}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = option(Path("."), "folder holding seeds/, index/ and .models/ (the working directory)", PATHS)
    sources: Path | None = option(None, "folder of transcripts, the library (default DATA_DIR/seeds)", PATHS)
    index_dir: Path | None = option(None, "index folder (default DATA_DIR/index)", PATHS)
    models_dir: Path | None = option(None, "folder of prepared models (default DATA_DIR/.models)", PATHS)
    embedder: str = option(
        "multilingual-e5-small", "embedding model: multilingual-e5-small or a sentence-transformers folder", INDEX
    )
    embed_backend: str = option(
        "auto", "embedding runtime; auto: ONNX when exported, else PyTorch", INDEX, choices=("auto", "onnx", "torch")
    )
    chunk_chars: int = option(
        600, "target chunk size in Latin-equivalent characters (a Japanese one counts 2.5)", INDEX, minimum=20
    )
    chunk_overlap_sentences: int = option(1, "sentences shared by consecutive chunks", INDEX, minimum=0)
    sentence_vectors: bool = option(
        False,
        "also embed every sentence; the top 20 hits compete for the k places by their best sentence (README)",
        INDEX,
    )
    hnsw_min_chunks: int = option(
        200_000, "from this many chunks up, search an HNSW graph instead of exact search", INDEX, minimum=1
    )
    n_threads: int = option(0, "CPU threads; 0: one per core", INDEX, flag="--threads", minimum=0)
    top_k: int = option(4, "passages given to the model (retrieve: hits shown)", RETRIEVAL, short="-k", minimum=1)
    lexical_weight: float = option(
        0.2, "weight of BM25 in the hybrid search; 0: dense search only", RETRIEVAL, minimum=0
    )
    rerank_depth: int = option(
        0,
        "re-order the top N hits (at least k) by the 0.5B chat model's likelihood of the question after each"
        " (~0.7 s a hit; README); 0: off",
        RETRIEVAL,
        minimum=0,
    )
    translate_questions: bool = option(
        True, "search also with the question translated (by the chat model) into the library's language", RETRIEVAL
    )
    passage_max_chars: int = option(
        1000, "a passage grows by a neighbouring sentence only up to this size (as chunk_chars)", RETRIEVAL, minimum=1
    )
    model: str = option(
        "qwen2.5-coder-1.5b", "chat model: a name from models.md or the path of a GGUF file", GENERATION
    )
    temperature: float = option(0.0, "sampling temperature; 0: always the likeliest token", GENERATION, minimum=0)
    max_tokens: int = option(200, "longest answer in tokens", GENERATION, minimum=1)
    n_ctx: int = option(4096, "llama.cpp context length in tokens", GENERATION, minimum=256)
    n_batch: int = option(512, "llama.cpp prompt-processing batch size", GENERATION, minimum=1)
    flash_attn: bool = option(True, "llama.cpp flash attention (+10-15% prompt processing, bench/perf.py)", GENERATION)
    second_chance: bool = option(
        True, "when the claim check supports nothing, answer once more from the next passages", GENERATION
    )
    refusal_threshold: float = option(
        -1.0,
        "refuse when 1 - P(the model says the passages answer) reaches this; -1: the model's calibrated value",
        GENERATION,
    )
    max_question_chars: int = option(2000, "longest question accepted, in characters", GENERATION, minimum=1)

    def __post_init__(self):
        for name, folder in (("sources", "seeds"), ("index_dir", "index"), ("models_dir", ".models")):
            if getattr(self, name) is None:
                object.__setattr__(self, name, Path(self.data_dir) / folder)

    @classmethod
    def load(cls, **overrides) -> Settings:
        """Flag values (None: not given) over RAG_* variables over defaults, each checked against its declaration."""
        values = {}
        for spec in fields(cls):
            raw = overrides.get(spec.name)
            origin = "--" + spec.name.replace("_", "-")
            if raw is None:
                raw, origin = os.environ.get(env_name(spec.name)), env_name(spec.name)
            if raw is not None:
                values[spec.name] = _coerce(spec, raw, origin)
        return cls(**values)

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1


def env_name(name: str) -> str:
    return "RAG_" + name.upper()


def flag_name(spec: dataclasses.Field) -> str:
    return spec.metadata["flag"] or "--" + spec.name.replace("_", "-")


def _kind(spec: dataclasses.Field) -> str:
    return str(spec.type).replace(" | None", "")


def _coerce(spec: dataclasses.Field, raw, origin: str):
    kind, meta = _kind(spec), spec.metadata
    fix = f"fix {origin}" if origin.startswith("RAG_") else f"fix {flag_name(spec)}"
    if isinstance(raw, str) and kind in ("int", "float", "bool"):
        text = raw.strip().lower()
        try:
            if kind == "bool":
                if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                raw = text in ("1", "true", "yes", "on")
            else:
                raw = int(text) if kind == "int" else float(text)
        except ValueError:
            raise UsageError(
                f"{spec.name} must be {'a yes/no value' if kind == 'bool' else 'a number'}, got {raw!r}; {fix}"
            ) from None
    if kind == "Path":
        return Path(raw).expanduser()
    if kind == "float" and raw != raw:  # NaN
        raise UsageError(f"{spec.name} must be a number, got {raw!r}; {fix}")
    if meta["minimum"] is not None and raw < meta["minimum"]:
        raise UsageError(f"{spec.name} must be at least {meta['minimum']}, got {raw}; {fix}")
    if meta["choices"] and raw not in meta["choices"]:
        raise UsageError(f"{spec.name} must be one of {', '.join(meta['choices'])}, got {raw!r}; {fix}")
    return raw if kind in ("int", "float", "bool") else str(raw)


def add_arguments(parser: argparse.ArgumentParser, groups: tuple[str, ...]) -> None:
    """Add a flag for every setting of the given groups; its value lands in args.<setting name>."""
    for spec in fields(Settings):
        meta = spec.metadata
        if meta["group"] not in groups:
            continue
        names = [n for n in (meta["short"], flag_name(spec)) if n]
        help_text = f"{meta['help']} [{env_name(spec.name)}]".replace("%", "%%")  # argparse formats help with %
        kind = _kind(spec)
        if kind == "bool":
            parser.add_argument(
                *names, dest=spec.name, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            parser.add_argument(*names, dest=spec.name, default=None, metavar=spec.name.upper(), help=help_text)


def from_args(args: argparse.Namespace) -> Settings:
    return Settings.load(**{spec.name: getattr(args, spec.name, None) for spec in fields(Settings)})


def markdown_table() -> str:
    """The settings table of the README."""
    rows = ["| flag | variable | default | what |", "|---|---|---|---|"]
    for spec in fields(Settings):
        meta = spec.metadata
        flags = ", ".join(f"`{n}`" for n in (meta["short"], flag_name(spec)) if n)
        if _kind(spec) == "bool":
            flags = f"`{flag_name(spec)}` / `--no-{flag_name(spec)[2:]}`"
        default = "" if spec.default is None else f"`{spec.default}`"
        rows.append(f"| {flags} | `{env_name(spec.name)}` | {default} | {meta['help']} |")
    return "\n".join(rows)
