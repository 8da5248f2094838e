"""Where a study keeps its results and its Optuna trials.

Results: a local path or any pyarrow filesystem URI (``file://``, ``s3://``, ``gs://``; query
parameters such as ``?endpoint_override=host:port&scheme=http`` reach pyarrow as they are). It is
Tune's ``storage_path``; JSON records go there too.

Optuna: SQLite in the local results directory by default; on a cluster a database URL such as
``postgresql+psycopg://optuna:${OPTUNA_PG_PASSWORD}@localhost:5432/optuna``. Passwords come from
the environment only: ``${NAME}`` is replaced by the variable's value, and a password written
into a study file or on the command line is refused (it would end up in git or in ``ps``).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from platform.provenance import write_json

ENV_STORAGE = "XMODAL_OPTUNA_STORAGE"
"""Environment variable holding the Optuna storage URL (may contain the password itself)."""

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StorageError(ValueError):
    """A results location or database URL that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Results:
    """A results root: the URI as given, its pyarrow filesystem and the path inside it."""

    uri: str
    fs: pafs.FileSystem
    path: str

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def child(self, *parts: str) -> "Results":
        return Results(_join_uri(self.uri, *parts), self.fs, "/".join([self.path.rstrip("/"), *parts]))

    def local_path(self) -> Path:
        if not self.is_local:
            raise StorageError(f"{self.uri} is not on the local filesystem")
        return Path(self.path)

    def tune_storage(self) -> dict[str, Any]:
        """``storage_path`` and ``storage_filesystem`` for Tune/Train's RunConfig. The filesystem
        object carries the URI's options (endpoint, region), which a bare path would lose."""
        return {"storage_path": self.path, "storage_filesystem": None if self.is_local else self.fs}

    def read_json(self, name: str) -> dict[str, Any] | None:
        """``<root>/<name>`` parsed (None if absent); ValueError naming the file if it is not a JSON object."""
        target = f"{self.path.rstrip('/')}/{name}"
        try:
            with self.fs.open_input_stream(target) as f:
                data = json.loads(f.read().decode())
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{_join_uri(self.uri, name)}: not readable JSON ({e})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{_join_uri(self.uri, name)}: not a JSON object")
        return data

    def write_json(self, name: str, data: dict[str, Any]) -> str:
        """Write ``<root>/<name>``: locally atomic (``provenance.write_json``: temporary name, then
        rename); object stores publish a whole object on close anyway. Returns the file's URI."""
        target = f"{self.path.rstrip('/')}/{name}"
        if self.is_local:
            write_json(Path(target), data)
        else:
            self.fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
            with self.fs.open_output_stream(target) as f:
                f.write(json.dumps(data, indent=2, default=str).encode())
        return _join_uri(self.uri, name)


def check_writable(directory: Path) -> None:
    """StorageError naming ``directory`` unless it can be created and a file written in it (probed, then removed)."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as e:
        raise StorageError(f"{directory}: cannot write results there ({e.strerror or e}); "
                           "give --results a writable directory") from None


def results_location(root: str | Path) -> Results:
    """``results/``, ``/abs/path``, ``file:///abs/path``, ``s3://bucket/prefix?...``."""
    root = str(root)
    if "://" not in root:
        path = Path(root).expanduser().resolve()
        return Results(str(path), pafs.LocalFileSystem(), str(path))
    try:
        fs, path = pafs.FileSystem.from_uri(root)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise StorageError(f"--results {redact(root)}: not a filesystem URI pyarrow can open ({e})") from None
    if isinstance(fs, pafs.LocalFileSystem):
        return Results(path, fs, path)
    return Results(root, fs, path)


def _join_uri(uri: str, *parts: str) -> str:
    base, sep, query = uri.partition("?")
    return "/".join([base.rstrip("/"), *parts]) + (sep + query if sep else "")


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and records)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def optuna_url(cli_value: str | None, study_value: str | None, results: Results) -> tuple[str, str]:
    """The Optuna storage URL and where it came from (``--storage``, the study, the environment, default).

    ``${NAME}`` placeholders are filled from the environment; a literal password in the study
    file or on the command line is a StorageError.
    """
    for source, value in (("--storage", cli_value), ("study key storage", study_value)):
        if value:
            if urlsplit(value).password and not _PLACEHOLDER.search(urlsplit(value).password or ""):
                raise StorageError(
                    f"{source}: {redact(value)} holds a password; write ${{OPTUNA_PG_PASSWORD}} in its place "
                    f"(single-quoted on a shell) and export the variable, or set {ENV_STORAGE} instead")
            return _expand(value, source), source
    env_value = os.environ.get(ENV_STORAGE)
    if env_value:
        return _expand(env_value, ENV_STORAGE), ENV_STORAGE
    if not results.is_local:
        raise StorageError(
            f"results at {redact(results.uri)} are not local, and SQLite cannot live there: give the Optuna "
            f"storage as a database URL (--storage, the study's storage key or {ENV_STORAGE})")
    return f"sqlite:///{results.local_path() / 'optuna.db'}", "default"


def url_template(source: str, cli_value: str | None, study_value: str | None) -> str | None:
    """The storage URL as the user gave it, ``${VAR}`` placeholders unexpanded (for ``source`` as
    ``optuna_url`` returns it): what may be written to disk in place of the URL. None: the default
    SQLite file, whose URL holds no secret."""
    return {"--storage": cli_value, "study key storage": study_value,
            ENV_STORAGE: "${" + ENV_STORAGE + "}"}.get(source)


def fill_placeholders(template: str, source: str) -> str:
    """``template`` with every ``${NAME}`` filled from the environment (a URL taken from
    ``$XMODAL_OPTUNA_STORAGE`` may hold placeholders in turn)."""
    url = _expand(template, source)
    return _expand(url, ENV_STORAGE) if template == "${" + ENV_STORAGE + "}" else url


def _expand(url: str, source: str) -> str:
    def fill(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            raise StorageError(f"{source}: the environment variable {m.group(1)} (used in the storage URL) is not set")
        return value

    return _PLACEHOLDER.sub(fill, url)


def connect(url: str, template: str | None = None):
    """The study's Optuna storage for ``url`` (``platform.study_storage.StudyStorage``: RDBStorage with
    heartbeats, whose pickled form holds ``template``, the URL with its ``${VAR}`` placeholders, never
    the password); an unreachable database is a StorageError, raised before any trial starts."""
    import optuna
    import sqlalchemy.exc

    sqlite_file = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        check_sqlite(sqlite_file)
    try:
        return _rdb_storage(url, template)
    except sqlalchemy.exc.DatabaseError as e:
        if sqlite_file is not None and not isinstance(e, sqlalchemy.exc.OperationalError):
            raise _damaged(sqlite_file, getattr(e, "orig", e)) from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StorageError(f"Optuna storage {redact(url)} is unreachable or unusable: {redact(first)}") from None
    except (sqlalchemy.exc.ArgumentError, ImportError, ModuleNotFoundError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StorageError(f"Optuna storage {redact(url)} is unreachable or unusable: {redact(first)}") from None


def _rdb_storage(url: str, template: str | None = None, attempts: int = 5):
    """RDBStorage for ``url``. Processes creating the same new database at the same moment (two
    studies, ``optuna-dashboard``) race in Optuna's schema creation: the losers see "table ...
    already exists" or a unique-constraint error on the version row. The database is sound then,
    and opening it again, once the winner is done, succeeds."""
    import time

    import sqlalchemy.exc

    from platform.study_storage import StudyStorage

    if template is None:  # a URL given whole (a script, a test): what is saved is the URL without its password
        template = redact(url)
    for attempt in range(attempts):
        try:
            return StudyStorage(url, template, engine_kwargs=_engine_kwargs(url))
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as e:
            lost_race = isinstance(e, sqlalchemy.exc.IntegrityError) or "already exists" in str(e)
            if not lost_race or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def check_sqlite(path: Path) -> None:
    """StorageError naming ``path`` if it exists but is not a sound SQLite database: opened read-only
    (never written), its header read and ``PRAGMA quick_check`` run (milliseconds for a study's file)."""
    import sqlite3

    if not path.is_file() or path.stat().st_size == 0:  # absent or empty: SQLite starts a new database
        return
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall() if row[0] != "ok"]
    except sqlite3.OperationalError:  # locked, or a journal a read-only connection cannot roll back
        return
    except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"
        raise _damaged(path, e) from None
    if problems:
        raise _damaged(path, f"quick_check: {problems[0]}")


def _damaged(path: Path, why: object) -> StorageError:
    return StorageError(f"Optuna storage {path} is not a usable SQLite database ({str(why).splitlines()[0]}); "
                        f"it was left untouched: move it aside (mv {path} {path}.damaged) to start a new study "
                        "there, or give --storage another database")


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    return {}
