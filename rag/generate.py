"""Text generation behind a tiny protocol.

`Generator.stream` takes chat messages and yields text pieces as the model
produces them. The real backend is llama.cpp (llama-cpp-python), imported
only when a model is loaded, with settings suited to a small CPU: all cores,
a large batch for prompt processing, a context that fits five passages.
It knows nothing about passages or citations; that is answer's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .errors import RagError


class Generator(Protocol):
    name: str

    def stream(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


class LlamaGenerator:
    def __init__(self, path: Path, name: str, n_ctx: int, n_threads: int, n_batch: int):
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
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise RagError(
                f"llama.cpp could not load {path} ({error}); check the file or choose another with --model"
            ) from None
        self.name = name
        self.n_ctx = n_ctx

    def stream(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]:
        for part in self.llm.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True, seed=0
        ):
            text = part["choices"][0]["delta"].get("content")
            if text:
                yield text

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def load_generator(settings) -> Generator:
    from .models import chat_model_path, model_label

    return LlamaGenerator(
        chat_model_path(settings), model_label(settings), settings.n_ctx, settings.threads, settings.n_batch
    )
