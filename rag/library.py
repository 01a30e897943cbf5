"""The library: the folder of transcripts the index is built from, changed one file at a time.

`add_files` checks each file by reading it (a file that is not a transcript
is refused before anything changes), copies it and its sidecars
(`.meta.json`, `.aliases.json`) into the library folder under its own base
name, then brings the index up to date, embedding only what is new
(rag.store.sync_index); when that fails, the copies it made are deleted
again. `remove_transcripts` does the reverse. `describe`
lists what the library holds; `resolve_videos` turns the names a user types
(`--video`) into transcript names. No searching or answering here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError
from .ingest import read_transcript
from .readers import SUFFIXES, is_transcript_file
from .store import library_state, make_folder, sync_index, why_not_written

SIDECARS = (".meta.json", ".aliases.json")


@dataclass(frozen=True)
class Entry:
    name: str  # file name in the library
    title: str
    format: str
    duration: float | None  # seconds; None for untimed text
    chunks: int

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "format": self.format,
            "duration": self.duration,
            "chunks": self.chunks,
        }


def _copy_atomic(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    except OSError as error:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise RagError(
            f"cannot copy {source.name} into {target.parent}: {why_not_written(error)}; "
            "free some disk space or fix the folder's permissions"
        ) from None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clear_partial_copies(library: Path) -> None:
    """Delete the temporary copies (`.NAME.PID.tmp`) an interrupted `rag add` left; live writers' stay."""
    for path in library.glob(".*.tmp"):
        pid = path.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            try:
                path.unlink()
            except OSError:
                pass


def check_files(paths: list[Path], log: Callable[[str], None] | None = None) -> list[Path]:
    """The paths, each read as a transcript (and so checked) before anything changes; RagError names a bad one."""
    log = log or (lambda message: None)
    checked = []
    for path in map(Path, paths):
        if path.is_dir():
            raise RagError(f"{path} is a folder; give the path of a transcript file (rag add FOLDER/*.srt)")
        if not path.is_file():
            raise RagError(f"{path} does not exist or is not a file; give the path of a transcript")
        if not is_transcript_file(path):
            raise RagError(f"{path.name} is not a transcript file; give an {', '.join(SUFFIXES)} file")
        transcript = read_transcript(path)  # refuses a file that is not a transcript, naming it
        log(f"{path.name}: {transcript.format}, {len(transcript.sentences)} sentences")
        checked.append(path)
    return checked


def add_files(settings, embedder, paths: list[Path], log: Callable[[str], None] | None = None) -> list[str]:
    """Copy transcripts into the library folder and index them; returns their names in the library.

    When indexing fails, the copies this call created are deleted again, leaving the library as it was.
    """
    library = Path(settings.sources)
    checked = check_files(paths, log)
    names = library_state(settings)  # also refuses two files of the same stem already in the library
    stems = {Path(n).stem: n for n in names}
    for path in checked:
        if path.stem in stems and stems[path.stem] != path.name:
            raise RagError(
                f"the library already holds {stems[path.stem]}, with the same name as {path.name}; "
                f"remove it first (`rag remove {path.stem}`) or rename the file"
            )
    make_folder(library, "library folder", "fix --sources / RAG_SOURCES")
    clear_partial_copies(library)
    created = []
    try:
        for path in checked:
            for source in [path] + [path.with_name(path.stem + suffix) for suffix in SIDECARS]:
                target = library / source.name
                if source.is_file() and source.resolve() != target.resolve():
                    if not target.exists():
                        created.append(target)
                    _copy_atomic(source, target)
        sync_index(settings, embedder, log=log)
    except BaseException:
        for target in created:
            target.unlink(missing_ok=True)
        raise
    return [p.name for p in checked]


def find(names: list[str], wanted: str) -> str | None:
    """The transcript a user means by `wanted`: its file name, its stem, or a unique part of it."""
    lowered = wanted.strip().lower()
    exact = [n for n in names if lowered in (n.lower(), Path(n).stem.lower())]
    if exact:
        return exact[0]
    partial = [n for n in names if lowered and lowered in n.lower()]
    return partial[0] if len(partial) == 1 else None


def choose_transcripts(settings, wanted: list[str], indexed: list[str]) -> list[str]:
    """The library names meant by `wanted` (file name, stem or a unique part); RagError for one that matches none."""
    library = Path(settings.sources)
    try:
        present = {p.name for p in library.iterdir() if is_transcript_file(p)} if library.is_dir() else set()
    except OSError as error:
        raise RagError(f"cannot list the library {library} ({error.strerror or error}); fix its permissions") from None
    names = sorted(set(indexed) | present)
    chosen = []
    for item in wanted:
        name = find(names, item)
        if name is None:
            raise RagError(f"no transcript in the library is called {item!r}; `rag list` shows their names")
        chosen.append(name)
    return chosen


def remove_transcripts(settings, embedder, wanted: list[str], indexed: list[str], log=None) -> list[str]:
    """Remove transcripts (and their sidecars) from the library folder and the index; returns their names."""
    library = Path(settings.sources)
    chosen = choose_transcripts(settings, wanted, indexed)
    for name in chosen:
        for path in [library / name] + [library / (Path(name).stem + suffix) for suffix in SIDECARS]:
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                raise RagError(
                    f"cannot delete {path}: {why_not_written(error)}; fix the library folder's permissions"
                ) from None
    sync_index(settings, embedder, log=log, allow_empty=True)
    return chosen


def describe(index) -> list[Entry]:
    return [
        Entry(name, t.title, t.format, t.duration, index.rows[name][1] - index.rows[name][0])
        for name, t in index.transcripts.items()
    ]


def resolve_videos(index, wanted: list[str] | None) -> frozenset[str]:
    """Transcript names for --video values (file name, stem, title or a unique part of one); empty: all."""
    if not wanted:
        return frozenset()
    names = list(index.transcripts)
    titles = {t.title.lower(): name for name, t in index.transcripts.items()}
    chosen = set()
    for item in wanted:
        name = titles.get(item.strip().lower()) or find(names, item)
        if name is None:
            matches = [t.title for t in index.transcripts.values() if item.strip().lower() in t.title.lower()]
            if len(matches) == 1:
                name = titles[matches[0].lower()]
        if name is None:
            raise RagError(f"no video in the library matches {item!r}; `rag list` shows their names and titles")
        chosen.add(name)
    return frozenset(chosen)
