"""Text generation behind a tiny protocol.

`Generator.stream` takes chat messages and yields text pieces as the model
produces them; `Generator.choose` gives the probability of each of a few
short replies (yes / no) from the first token; `continuation_logprobs` how
likely the model finds a given reply, token by token. The real backend is
llama.cpp (llama-cpp-python), imported only when a model is loaded, with
settings suited to a small CPU: all cores, a large batch for prompt
processing, a context that fits five passages.
Every prompt here is a fixed start (the system message and any worked
examples: all messages before the last) and one new user message. Each fixed
start is evaluated once, its KV state kept in memory and on disk (`prime`),
and put back before a prompt that begins with it when the context holds
something else (a translation before an answer), so even a one-shot
`rag ask` pays only for its own tokens.
It knows nothing about passages or citations; that is answer's job.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
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

    def continuation_logprobs(self, messages: list[dict], continuation: str) -> list[float]: ...


class LlamaGenerator:
    def __init__(
        self,
        path: Path,
        name: str,
        n_ctx: int,
        n_threads: int,
        n_batch: int,
        flash_attn: bool = True,
        cache_dir: Path | None = None,
    ):
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
        self.cache_dir = cache_dir
        self.fixed_starts: dict[str, tuple[list[int], ctypes.Array]] = {}  # messages (JSON) -> tokens, KV state
        self.formatter = None  # the chat template, compiled at first use by continuation_logprobs

    def prime(self, fixed_start: list[dict]) -> str:
        """Put the KV state of a fixed start (the messages before a prompt's last user message) into the context.

        The rendered messages and the next user turn's header are found as
        the common start of two prompts that differ only in the user's text.
        Their state is kept in memory, saved in the cache folder under a key
        of everything it depends on, and loaded from there next time. Returns
        "loaded", "saved" or "unsaved" (no cache folder, or it could not be
        written).
        """
        key_text = json.dumps(fixed_start, ensure_ascii=False)
        cached = self._cache_file(key_text) if self.cache_dir is not None else None
        if cached is not None and cached.is_file():
            if self.load_prefix(cached):
                self.fixed_starts[key_text] = (self.llm.input_ids[: self.llm.n_tokens].tolist(), self._kv_state())
                return "loaded"
            cached.unlink(missing_ok=True)  # unreadable (another llama.cpp build): evaluate again
        tokens = self.evaluate_shared_prefix(*(fixed_start + [{"role": "user", "content": p}] for p in "ab"))
        self.fixed_starts[key_text] = (tokens, self._kv_state())
        return "saved" if cached is not None and self.save_prefix(cached, tokens) else "unsaved"

    def _cache_file(self, key_text: str) -> Path:
        """Where a fixed start's state is kept: named by everything the state depends on."""
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
                    key_text,
                )
            ).encode()
        ).hexdigest()[:16]
        return Path(self.cache_dir) / f"{self.path.stem}-{key}.kv"

    def _kv_state(self) -> ctypes.Array:
        import llama_cpp

        size = llama_cpp.llama_state_seq_get_size(self.llm.ctx, 0)
        state = (ctypes.c_uint8 * size)()
        llama_cpp.llama_state_seq_get_data(self.llm.ctx, state, size, 0)
        return state

    def start_from_fixed(self, messages: list[dict]) -> None:
        """Make the context begin with the prompt's fixed start: kept as is when it already does (it may hold
        more of this prompt), put back from memory when it holds another prompt, primed the first time."""
        import llama_cpp

        fixed = messages[:-1]
        if not fixed:
            return
        known = self.fixed_starts.get(json.dumps(fixed, ensure_ascii=False))
        if known is None:
            self.prime(fixed)
            return
        tokens, state = known
        if self.llm.n_tokens >= len(tokens) and self.llm.input_ids[: len(tokens)].tolist() == tokens:
            return
        self.llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        llama_cpp.llama_state_seq_set_data(self.llm.ctx, state, len(state), 0)
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)

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
        """The reply's pieces. When the last message is the assistant's, the reply continues it (its start is
        given, as in the chat template's own rendering of an assistant turn) and only what follows is yielded."""
        if messages and messages[-1]["role"] == "assistant":
            yield from self._continue(messages[:-1], messages[-1]["content"], max_tokens, temperature)
            return
        self.start_from_fixed(messages)
        for part in self.llm.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True, seed=0
        ):
            text = part["choices"][0]["delta"].get("content")
            if text:
                yield text

    def _continue(self, messages: list[dict], start: str, max_tokens: int, temperature: float) -> Iterator[str]:
        self.start_from_fixed(messages)
        prompt, stop = self._prompt_tokens(messages)
        prompt += self.llm.tokenize(start.encode("utf-8"), add_bos=False, special=False)
        for part in self.llm.create_completion(
            prompt=prompt, max_tokens=max_tokens, temperature=temperature, stream=True, seed=0, stop=stop
        ):
            text = part["choices"][0]["text"]
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

        self.start_from_fixed(messages)
        self.llm.create_chat_completion(
            messages=messages, max_tokens=1, temperature=0, logits_processor=LogitsProcessorList([record])
        )
        shifted = np.exp(seen[0] - seen[0].max())
        mass = {name: float(shifted[self._first_token_ids_of(words)].sum()) for name, words in options.items()}
        total = sum(mass.values()) or 1.0
        return {name: value / total for name, value in mass.items()}

    def continuation_logprobs(self, messages: list[dict], continuation: str) -> list[float]:
        """The log-probability of each token of `continuation` as the start of the reply to the chat messages.

        One pass over the prompt and the continuation; logits are read only where they predict a token of
        the continuation, and the part the context already holds is not evaluated again.
        """
        import llama_cpp
        import numpy as np

        self.start_from_fixed(messages)
        prompt, _ = self._prompt_tokens(messages)
        reply = self.llm.tokenize(continuation.encode("utf-8"), add_bos=False, special=False)
        tokens = prompt + reply
        if not reply or len(tokens) > self.n_ctx:
            return []
        held = self.llm.input_ids[: self.llm.n_tokens].tolist()
        kept = 0
        while kept < min(len(held), len(prompt) - 1) and held[kept] == tokens[kept]:
            kept += 1
        self.llm._ctx.kv_cache_seq_rm(-1, kept, -1)
        n_batch, n_vocab = self.llm.n_batch, self.llm.n_vocab()
        batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        logprobs = []
        try:
            for start in range(kept, len(tokens), n_batch):
                piece = tokens[start : start + n_batch]
                batch.n_tokens = len(piece)
                for i, token in enumerate(piece):
                    batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + i, 1
                    batch.seq_id[i][0] = 0
                    batch.logits[i] = int(len(prompt) - 1 <= start + i < len(tokens) - 1)
                if llama_cpp.llama_decode(self.llm.ctx, batch) != 0:
                    raise RagError("llama.cpp could not evaluate a prompt; try a smaller --n-batch")
                for i in range(len(piece)):
                    if batch.logits[i]:
                        row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.llm.ctx, i), shape=(n_vocab,))
                        top = float(row.max())
                        log_total = top + float(np.log(np.exp(row - top).sum()))
                        logprobs.append(float(row[tokens[start + i + 1]]) - log_total)
        finally:
            llama_cpp.llama_batch_free(batch)
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)
        return logprobs

    def _prompt_tokens(self, messages: list[dict]) -> tuple[list[int], object]:
        """The chat prompt's tokens up to the start of the reply, as create_chat_completion renders them, and
        the template's stop strings."""
        rendered = self._chat_formatter()(messages=messages)
        prompt = self.llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        return prompt, rendered.stop

    def _chat_formatter(self):
        """The model's own chat template (as create_chat_completion renders it), compiled once."""
        if self.formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            special = {
                name: self.llm.detokenize([token], special=True).decode("utf-8", "replace")
                for name, token in (("eos_token", self.llm.token_eos()), ("bos_token", self.llm.token_bos()))
            }
            self.formatter = Jinja2ChatFormatter(self.llm.metadata["tokenizer.chat_template"], **special)
        return self.formatter

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
    """Load the chat model; with system_prompt, its KV state is primed now (other fixed starts at first use;
    all cached in models_dir/kv)."""
    from .models import chat_model_path, model_label

    generator = LlamaGenerator(
        chat_model_path(settings),
        model_label(settings),
        settings.n_ctx,
        settings.threads,
        settings.n_batch,
        settings.flash_attn,
        Path(settings.models_dir) / "kv",
    )
    if system_prompt:
        generator.prime([{"role": "system", "content": system_prompt}])
    return generator
