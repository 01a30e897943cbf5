"""Text generation behind a tiny protocol.

`Generator.stream` takes chat messages and yields text pieces as the model
produces them; `Generator.choose` gives the probability of each of a few
short replies (yes / no) from the first token. The real backend is llama.cpp (llama-cpp-python), imported
only when a model is loaded, with settings suited to a small CPU: all cores,
a large batch for prompt processing, a context that fits five passages.
The fixed system prompt is evaluated once and its KV state kept on disk
(`prime`), so even a one-shot `rag ask` pays only for its own tokens; later
prompts reuse it through llama-cpp-python's prefix matching.
It knows nothing about passages or citations; that is answer's job.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .errors import RagError


class Generator(Protocol):
    """Streams a chat answer as text pieces; `choose` reads how likely each of a few replies is."""

    name: str

    def stream(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...

    def choose(self, messages: list[dict], options: dict[str, list[str]]) -> dict[str, float]: ...


class LlamaGenerator:
    def __init__(self, path: Path, name: str, n_ctx: int, n_threads: int, n_batch: int, flash_attn: bool = True):
        try:
            from llama_cpp import Llama
        except ImportError:
            raise RagError("llama-cpp-python is not installed; run ./run.sh (it builds it for this CPU)") from None
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=n_batch,
                n_ubatch=n_batch,
                flash_attn=flash_attn,
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise RagError(
                f"llama.cpp could not load {path} ({error}); check the file or choose another with --model"
            ) from None
        self.name = name
        self.n_ctx = n_ctx
        self.path = path
        self.flash_attn = flash_attn

    def prime(self, system_prompt: str, cache_dir: Path) -> str:
        """Put the KV state of the chat prefix that every prompt shares into the context.

        The prefix (the rendered system message and the user turn's header)
        is found as the common start of two prompts that differ only in the
        user's text. Its state is saved in cache_dir under a key of everything
        it depends on and loaded from there next time. Returns "loaded",
        "saved" or "unsaved" (the cache could not be written).
        """
        import llama_cpp

        stat = self.path.stat()
        key = hashlib.sha256(
            repr(
                (
                    self.path.name,
                    stat.st_size,
                    stat.st_mtime_ns,
                    self.n_ctx,
                    self.flash_attn,
                    llama_cpp.__version__,
                    system_prompt,
                )
            ).encode()
        ).hexdigest()[:16]
        cached = Path(cache_dir) / f"{self.path.stem}-{key}.kv"
        if cached.is_file():
            if self.load_prefix(cached):
                return "loaded"
            cached.unlink(missing_ok=True)  # unreadable (another llama.cpp build): evaluate again
        tokens = self.evaluate_shared_prefix(
            *([{"role": "system", "content": system_prompt}, {"role": "user", "content": probe}] for probe in "ab")
        )
        return "saved" if self.save_prefix(cached, tokens) else "unsaved"

    def evaluate_shared_prefix(self, first: list[dict], second: list[dict]) -> list[int]:
        """Evaluate the tokens two chat prompts start with; leave exactly those in the context and return them."""
        prompts = []
        for messages in (first, second):
            self.llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0)
            prompts.append(self.llm.input_ids[: self.llm.n_tokens].tolist())
        shared = 0
        while shared < min(map(len, prompts)) and prompts[0][shared] == prompts[1][shared]:
            shared += 1
        self.llm._ctx.kv_cache_seq_rm(-1, shared, -1)
        self.llm.n_tokens = shared
        return prompts[1][:shared]

    def save_prefix(self, path: Path, tokens: list[int]) -> bool:
        """Write the context's KV state for `tokens` (what it holds now) to path, atomically."""
        import llama_cpp

        partial = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            array = (llama_cpp.llama_token * len(tokens))(*tokens)
            if not llama_cpp.llama_state_seq_save_file(self.llm.ctx, str(partial).encode(), 0, array, len(tokens)):
                return False
            os.replace(partial, path)
        except OSError:
            partial.unlink(missing_ok=True)
            return False
        return True

    def load_prefix(self, path: Path) -> bool:
        """Replace the context with the KV state saved at path; False when llama.cpp cannot read it."""
        import llama_cpp

        tokens = (llama_cpp.llama_token * self.n_ctx)()
        count = ctypes.c_size_t(0)
        self.llm.reset()
        if not llama_cpp.llama_state_seq_load_file(
            self.llm.ctx, str(path).encode(), 0, tokens, self.n_ctx, ctypes.byref(count)
        ):
            return False
        self.llm.input_ids[: count.value] = tokens[: count.value]
        self.llm.n_tokens = count.value
        return True

    def stream(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]:
        for part in self.llm.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True, seed=0
        ):
            text = part["choices"][0]["delta"].get("content")
            if text:
                yield text

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def choose(self, messages: list[dict], options: dict[str, list[str]]) -> dict[str, float]:
        """The probability of each option as the reply's first token, normalized over the options.

        `options` maps a name to the words that begin it ({"yes": ["yes", "Yes"], "no": ["no", "No"]}); each
        word counts by its first token, with and without a leading space. One token is evaluated after the
        prompt, whose shared start with the previous prompt llama.cpp reuses.
        """
        import numpy as np
        from llama_cpp import LogitsProcessorList

        seen: list[np.ndarray] = []

        def record(_input_ids, scores):
            if not seen:
                seen.append(scores.copy())
            return scores

        self.llm.create_chat_completion(
            messages=messages, max_tokens=1, temperature=0, logits_processor=LogitsProcessorList([record])
        )
        shifted = np.exp(seen[0] - seen[0].max())
        mass = {name: float(shifted[self._first_token_ids_of(words)].sum()) for name, words in options.items()}
        total = sum(mass.values()) or 1.0
        return {name: value / total for name, value in mass.items()}

    def _first_token_ids_of(self, words: list[str]) -> list[int]:
        """The first token of each word, with and without a leading space."""
        ids = set()
        for word in words:
            for variant in (word, " " + word):
                tokens = self.llm.tokenize(variant.encode(), add_bos=False, special=False)
                if tokens:
                    ids.add(tokens[0])
        return sorted(ids)


def load_generator(settings, system_prompt: str | None = None) -> Generator:
    """Load the chat model; with system_prompt, its KV state is primed (and cached in models_dir/kv)."""
    from .models import chat_model_path, model_label

    generator = LlamaGenerator(
        chat_model_path(settings),
        model_label(settings),
        settings.n_ctx,
        settings.threads,
        settings.n_batch,
        settings.flash_attn,
    )
    if system_prompt:
        generator.prime(system_prompt, Path(settings.models_dir) / "kv")
    return generator
