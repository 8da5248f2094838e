"""Where corpora go: a local path, or any pyarrow filesystem URI (file://, s3://, gs://, hdfs://).

A local path is written in place (temporary sibling directory, then rename). For a URI the corpus
is built in a local staging directory and uploaded: on filesystems with directory renames
(file://, hdfs://) to a temporary name that is then renamed; on object stores (s3://, gs://) the
Parquet files first and ``manifest.json`` last, since readers trust only a corpus with a manifest.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

_OBJECT_STORES = {"s3", "gcs"}


def os_error_line(e: OSError, where: str | Path) -> str:
    """``<path>: <reason>`` in one line for an OSError met writing under ``where`` (the file it names, if
    any; a Ray task's OSError carries the task's traceback, whose last line is the reason)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return f"{e.filename or where}: {e.strerror or (lines[-1] if lines else type(e).__name__)}"


def is_uri(where: str | Path) -> bool:
    return isinstance(where, str) and "://" in where


def filesystem(uri: str):
    """(pyarrow FileSystem, path inside it) of a URI; ValueError naming it if pyarrow cannot open it."""
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as e:
        raise ValueError(f"{uri}: not a usable pyarrow filesystem URI ({type(e).__name__}: {e})") from e


def join(uri: str, name: str) -> str:
    return uri.rstrip("/") + "/" + name


def read_text(fs, path: str) -> str | None:
    """A small file's text, or None if it does not exist."""
    import pyarrow.fs as pafs

    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as f:
        return f.read().decode()


def read_manifest_uri(uri: str) -> dict | None:
    fs, path = filesystem(uri)
    text = read_text(fs, path.rstrip("/") + "/manifest.json")
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{uri}/manifest.json: corrupt manifest ({e}); rebuild with --force") from e


def upload(local_dir: Path, uri: str) -> None:
    """Copy a finished local corpus directory to ``uri`` (replacing what is there), manifest last."""
    import pyarrow.fs as pafs

    fs, final = filesystem(uri)
    final = final.rstrip("/")
    local = pafs.LocalFileSystem()
    files = sorted(p for p in local_dir.rglob("*") if p.is_file())
    data = [p for p in files if p.name != "manifest.json"]
    manifest = local_dir / "manifest.json"
    if fs.type_name in _OBJECT_STORES:
        if fs.get_file_info(final + "/manifest.json").type == pafs.FileType.File:
            fs.delete_file(final + "/manifest.json")  # the old corpus stops being valid first
        if fs.get_file_info(final).type == pafs.FileType.Directory:
            fs.delete_dir_contents(final, missing_dir_ok=True)
        _put(fs, local_dir, data + [manifest], final)
        return
    parent, name = final.rsplit("/", 1) if "/" in final else ("", final)
    tmp = f"{parent}/.{name}.upload-{os.getpid()}"
    fs.delete_dir_contents(tmp, missing_dir_ok=True)
    try:
        _put(fs, local_dir, data + [manifest], tmp)
        if fs.get_file_info(final).type != pafs.FileType.NotFound:
            old = f"{parent}/.{name}.old-{os.getpid()}"
            fs.move(final, old)
            fs.move(tmp, final)
            fs.delete_dir(old)
        else:
            fs.move(tmp, final)
    except BaseException:
        if fs.get_file_info(tmp).type != pafs.FileType.NotFound:
            fs.delete_dir(tmp)
        raise


def _put(fs, local_dir: Path, files: list[Path], dest: str) -> None:
    fs.create_dir(dest, recursive=True)
    for p in files:
        rel = p.relative_to(local_dir).as_posix()
        if "/" in rel:
            fs.create_dir(dest + "/" + rel.rsplit("/", 1)[0], recursive=True)
        with open(p, "rb") as src, fs.open_output_stream(dest + "/" + rel) as out:
            while block := src.read(8 << 20):
                out.write(block)
