"""Export an embedding model folder to ONNX, for rag.embed's OnnxEmbedder.

`export_onnx(folder, texts)` traces the folder's transformer with PyTorch's
ONNX exporter, writes `onnx/model.onnx` beside the weights, and returns the
cosine between its vectors and PyTorch's on the given texts, so a bad export
is caught at preparation rather than in retrieval. With `int8=True` the
weights are also quantized to int8 (ONNX Runtime dynamic quantization) into
`onnx/model_qint8.onnx`: faster still, but it lost recall on the dev set
(bench/embed_backends.py), so only the benchmark asks for it. Used once by
`rag models prepare`; nothing here runs at question time.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .embed import OnnxEmbedder, SentenceTransformerEmbedder
from .models import ONNX_FILE

INT8_FILE = Path("onnx") / "model_qint8.onnx"


def export_onnx(folder: Path, texts: dict[str, list[str]], int8: bool = False) -> dict:
    """Write the ONNX model; return {kind: {"cosine_mean", "cosine_min", "texts"}} against PyTorch."""
    import torch
    from transformers import AutoModel

    folder = Path(folder)
    model = AutoModel.from_pretrained(str(folder)).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    target = folder / (INT8_FILE if int8 else ONNX_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        traced = Path(work) / "model.onnx"
        sample = torch.ones(1, 8, dtype=torch.long)
        axes = {0: "batch", 1: "tokens"}
        with warnings.catch_warnings():  # the tracer's notes about Python control flow: expected here
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(model),
                (sample, sample),
                str(traced),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = Path(work) / "model_qint8.onnx"
            quantize_dynamic(str(traced), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
            traced = quantized
        os.replace(traced, target)
    return compare_with_torch(folder, target, texts)


def compare_with_torch(folder: Path, model_file: Path, texts: dict[str, list[str]]) -> dict:
    onnx = OnnxEmbedder(folder, model_file, name="onnx")
    reference = SentenceTransformerEmbedder(folder)
    report = {}
    for kind, items in texts.items():
        if not items:
            continue
        embed = "embed_queries" if kind == "query" else "embed_passages"
        cosines = np.sum(getattr(onnx, embed)(items) * getattr(reference, embed)(items), axis=1)
        report[kind] = {
            "cosine_mean": round(float(cosines.mean()), 5),
            "cosine_min": round(float(cosines.min()), 5),
            "texts": len(items),
        }
    return report
