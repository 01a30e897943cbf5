"""The loaded pieces an answer needs, loaded once and shared.

`Pipeline.load` checks the model files, loads the index, the embedder and
the chat model; `ask_stream` answers one question at a time (a lock guards
the single llama.cpp context, so concurrent callers queue). Chat models are
cached by name, so switching back and forth does not reload them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from .answer import STEPS, Answer, Steps, ask_stream
from .settings import Settings


def load_search(settings: Settings) -> tuple[object, object]:
    """The embedder and the index; the index (cheap, and the likelier to need a rebuild) is checked first."""
    from .embed import load_embedder
    from .models import embedder_path
    from .store import check_dimension, load_index

    index = load_index(settings, settings.embedder)
    embedder_path(settings)
    embedder = load_embedder(settings)
    check_dimension(index, embedder)
    return embedder, index


@dataclass
class Pipeline:
    settings: Settings
    embedder: object
    index: object
    generators: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one llama.cpp context: one answer at a time
    library_lock: threading.Lock = field(default_factory=threading.Lock)  # one library change at a time
    steps: Steps = STEPS

    @classmethod
    def load(cls, settings: Settings) -> Pipeline:
        from .models import chat_model_path
        from .rerank import check_rerank_model

        chat_model_path(settings)  # a clear error before anything heavy loads
        check_rerank_model(settings)
        embedder, index = load_search(settings)
        pipeline = cls(settings, embedder, index)
        pipeline.generator(settings)
        return pipeline

    def generator(self, settings: Settings):
        from .answer import SYSTEM_PROMPT
        from .generate import load_generator

        key = (settings.model, settings.n_ctx, settings.threads, settings.n_batch, settings.flash_attn)
        if key not in self.generators:
            self.generators[key] = load_generator(settings, SYSTEM_PROMPT)
        return self.generators[key]

    def ask_stream(
        self,
        question: str,
        history: list[dict] | None = None,
        settings: Settings | None = None,
        videos: frozenset[str] = frozenset(),
    ) -> Iterator[str | Answer]:
        settings = settings or self.settings
        index = self.index  # an upload may replace it meanwhile; this answer keeps the one it started with
        with self.lock:
            generator = self.generator(settings)
            yield from ask_stream(question, index, self.embedder, generator, settings, history, self.steps, videos)

    def add_files(self, paths: list, log=None) -> list[str]:
        """Add transcripts to the library and swap in the updated index; returns their names."""
        from .library import add_files
        from .store import load_index

        with self.library_lock:
            names = add_files(self.settings, self.embedder, paths, log=log)
            self.index = load_index(self.settings, self.embedder.name)
        return names
