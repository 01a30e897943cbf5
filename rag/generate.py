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
    """Streams a chat answer.

    With `watch`, the generator records in `watched_probability` how likely
    the first token was to begin that word (e.g. NOT_FOUND), and never lets
    the model write it: the caller decides from the probability.
    """

    name: str
    watched_probability: float | None

    def stream(
        self, messages: list[dict], max_tokens: int, temperature: float, watch: str | None = None
    ) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


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
        self.watched_probability = None

    def _first_token_ids(self, word: str) -> list[int]:
        variants = {word, " " + word}
        return sorted({self.llm.tokenize(v.encode(), add_bos=False, special=False)[0] for v in variants})

    def stream(
        self, messages: list[dict], max_tokens: int, temperature: float, watch: str | None = None
    ) -> Iterator[str]:
        self.watched_probability = None
        processors = None
        if watch:
            import numpy as np
            from llama_cpp import LogitsProcessorList

            banned = self._first_token_ids(watch)

            def watch_and_ban(_input_ids, scores):
                if self.watched_probability is None:
                    shifted = np.exp(scores - scores.max())
                    self.watched_probability = float(shifted[banned].sum() / shifted.sum())
                scores[banned] = -np.inf
                return scores

            processors = LogitsProcessorList([watch_and_ban])
        for part in self.llm.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            seed=0,
            logits_processor=processors,
        ):
            text = part["choices"][0]["delta"].get("content")
            if text:
                yield text

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def load_generator(settings) -> Generator:
    from .models import chat_model_path, model_label

    return LlamaGenerator(
        chat_model_path(settings),
        model_label(settings),
        settings.n_ctx,
        settings.threads,
        settings.n_batch,
        bool(settings.flash_attn),
    )
