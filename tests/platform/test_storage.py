"""Results locations (paths and pyarrow URIs) and the Optuna storage URL: sources, passwords, reachability."""
from __future__ import annotations

import json
import socket

import optuna
import pytest

from platform.storage import ENV_STORAGE, StorageError, connect, optuna_url, redact, results_location
from platform.tune import main


def test_results_location_takes_paths_and_file_uris(tmp_path):
    plain = results_location(tmp_path / "r")
    uri = results_location(f"file://{tmp_path}/r")
    assert plain.is_local and uri.is_local and plain.path == uri.path == str(tmp_path / "r")
    child = results_location("s3://bucket/prefix?region=us-east-1&endpoint_override=127.0.0.1:1&scheme=http").child("study")
    assert not child.is_local
    assert child.uri == "s3://bucket/prefix/study?region=us-east-1&endpoint_override=127.0.0.1:1&scheme=http"
    assert child.path == "bucket/prefix/study"
    assert child.tune_storage()["storage_filesystem"] is child.fs
    with pytest.raises(StorageError, match="nosuchscheme"):
        results_location("nosuchscheme://x/y")


def test_write_json_is_atomic_and_leaves_no_temporary_files(tmp_path):
    results = results_location(f"file://{tmp_path}").child("study", "exp")
    results.write_json("summary.json", {"a": 1})
    results.write_json("summary.json", {"a": 2})
    assert json.loads((tmp_path / "study" / "exp" / "summary.json").read_text()) == {"a": 2}
    assert [p.name for p in (tmp_path / "study" / "exp").iterdir()] == ["summary.json"]


def test_default_is_sqlite_in_the_results_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_STORAGE, raising=False)
    url, source = optuna_url(None, "", results_location(tmp_path))
    assert url == f"sqlite:///{tmp_path}/optuna.db" and source == "default"


def test_passwords_come_from_the_environment_only(tmp_path, monkeypatch):
    results = results_location(tmp_path)
    monkeypatch.setenv("OPTUNA_PG_PASSWORD", "s3cr3t")
    url, source = optuna_url(None, "postgresql+psycopg://optuna:${OPTUNA_PG_PASSWORD}@db:5432/optuna", results)
    assert url == "postgresql+psycopg://optuna:s3cr3t@db:5432/optuna" and source == "study key storage"
    with pytest.raises(StorageError, match=r"--storage: postgresql\+psycopg://optuna:\*\*\*@db/optuna holds a password"):
        optuna_url("postgresql+psycopg://optuna:hunter2@db/optuna", None, results)
    monkeypatch.delenv("OPTUNA_PG_PASSWORD")
    with pytest.raises(StorageError, match="OPTUNA_PG_PASSWORD .* is not set"):
        optuna_url("postgresql+psycopg://optuna:${OPTUNA_PG_PASSWORD}@db/optuna", None, results)
    monkeypatch.setenv(ENV_STORAGE, "postgresql+psycopg://optuna:fromenv@db/optuna")  # the environment may hold it
    assert optuna_url(None, None, results) == ("postgresql+psycopg://optuna:fromenv@db/optuna", ENV_STORAGE)


def test_remote_results_need_a_database(monkeypatch):
    monkeypatch.delenv(ENV_STORAGE, raising=False)
    with pytest.raises(StorageError, match="SQLite cannot live there"):
        optuna_url(None, None, results_location("s3://bucket/x?region=us-east-1"))


def test_unreachable_database_is_a_clear_error_without_the_password():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://optuna:topsecret@127.0.0.1:{port}/optuna"
    with pytest.raises(StorageError, match=r"optuna:\*\*\*@127.0.0.1:\d+/optuna is unreachable") as info:
        connect(url)
    assert "topsecret" not in str(info.value)
    assert redact(url) == f"postgresql+psycopg://optuna:***@127.0.0.1:{port}/optuna"


def test_tune_cli_stops_before_ray_when_the_database_is_unreachable(tiny_study_yaml, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PGPW", "x")
    code = main(["--study", str(tiny_study_yaml), "--results", str(tmp_path),
                 "--storage", "postgresql+psycopg://optuna:${PGPW}@127.0.0.1:1/optuna"])
    assert code == 2
    assert "unreachable" in capsys.readouterr().err
    assert not (tmp_path / "tiny_study").joinpath("optuna.db").exists()


def _one_line_naming(err: str, path) -> bool:
    return err.count("\n") == 1 and str(path) in err and "move it aside" in err and "--storage" in err


@pytest.mark.parametrize("damage", ["text", "truncated"])
def test_a_damaged_sqlite_study_is_one_line_and_left_untouched(tiny_study_yaml, tmp_path, capsys, monkeypatch, damage):
    """platform.tune and platform.report stop before Ray with one line naming the file; its bytes stay."""
    from platform.report import main as report_main

    monkeypatch.delenv(ENV_STORAGE, raising=False)
    db = tmp_path / "tiny_study" / "optuna.db"
    db.parent.mkdir()
    if damage == "text":
        db.write_text("results of my last study, not a database\n" * 20)
    else:  # a real study whose file lost its second half
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name="tiny_study", storage=f"sqlite:///{db}")
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=20)
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    before = db.read_bytes()
    assert main(["--study", str(tiny_study_yaml), "--results", str(tmp_path)]) == 2
    assert _one_line_naming(capsys.readouterr().err, db)
    assert report_main(["--study", "tiny_study", "--results", str(tmp_path), "--no-plots"]) == 2
    assert _one_line_naming(capsys.readouterr().err, db)
    assert db.read_bytes() == before and sorted(p.name for p in db.parent.iterdir()) == ["optuna.db"]


def test_results_that_cannot_be_written_stop_the_cli_in_one_line_before_ray(tiny_study_yaml, tmp_path, capsys):
    (tmp_path / "results").write_text("a file where the results directory should be\n")
    assert main(["--study", str(tiny_study_yaml), "--results", str(tmp_path / "results" / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "results" / "runs") in err and "cannot write" in err, err


def test_a_summary_that_cannot_be_written_leaves_no_file_and_ends_in_one_line(tmp_path, monkeypatch, capsys):
    """The disk fills up while summary.json is written (injected): no half file, the summary is still whole in memory."""
    import errno
    from pathlib import Path

    from platform.summary import write_summary
    from platform.tune import exit_code

    real_write_text = Path.write_text

    def disk_full(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    experiment = results_location(tmp_path).child("study", "exp")
    summary = {"study": "study", "trials": 3, "trials_failed": 0, "succeeded": 3, "interrupted": False}
    write_summary(experiment, summary)
    assert summary["not_written"] == f"cannot write the summary: {tmp_path}/study/exp/summary.json: No space left on device"
    assert list((tmp_path / "study" / "exp").iterdir()) == []
    assert exit_code(summary, "study") == 1 and capsys.readouterr().err.count("\n") == 1


def test_optuna_study_in_a_real_postgresql_server(postgres, monkeypatch):
    monkeypatch.setenv("TEST_PG_PASSWORD", postgres["password"])
    template = postgres["url"].replace(postgres["password"], "${TEST_PG_PASSWORD}")
    url, _ = optuna_url(None, template, results_location("results"))
    storage = connect(url)
    study = optuna.create_study(study_name="pg_round_trip", storage=storage, direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    again = optuna.load_study(study_name="pg_round_trip", storage=connect(url))
    assert len(again.trials) == 3 and again.best_value == max(t.value for t in again.trials)


def _connect_at_once(url: str, barrier, errors) -> None:
    barrier.wait()
    try:
        connect(url)
    except StorageError as e:
        errors.put(str(e))


def test_processes_creating_one_new_sqlite_study_at_once_all_connect(tmp_path):
    """Several processes opening the same new database race to create Optuna's schema; the losers
    of the race see a unique-constraint error on the version row, which is no damage (CI saw a
    study refused as 'not a usable SQLite database' this way)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    barrier, errors = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_connect_at_once, args=(url, barrier, errors)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 6
    assert errors.empty(), errors.get()


def test_the_saved_storage_holds_the_url_as_written_and_reconnects_from_the_environment(postgres, monkeypatch):
    """What Tune pickles into an experiment (the searcher and its storage) holds ``${TEST_PG_PASSWORD}``,
    not the password; ``--resume`` unpickles it with the password taken from the environment again."""
    import pickle

    from platform.storage import url_template

    monkeypatch.setenv("TEST_PG_PASSWORD", postgres["password"])
    template = postgres["url"].replace(postgres["password"], "${TEST_PG_PASSWORD}")
    url, source = optuna_url(None, template, results_location("results"))
    storage = connect(url, url_template(source, None, template))
    study = optuna.create_study(study_name="pg_pickled", storage=storage, load_if_exists=True)
    study.enqueue_trial({"x": 0.5})
    saved = pickle.dumps(study)
    assert postgres["password"].encode() not in saved and b"${TEST_PG_PASSWORD}" in saved
    assert len(pickle.loads(saved).get_trials(deepcopy=False)) == 1  # reconnected with the environment's password
    monkeypatch.delenv("TEST_PG_PASSWORD")
    with pytest.raises(StorageError, match="the environment variable TEST_PG_PASSWORD .* is not set"):
        pickle.loads(saved)
