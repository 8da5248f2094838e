"""optuna-dashboard opens the study storages platform.tune writes: SQLite in the results directory and PostgreSQL."""
from __future__ import annotations

import optuna
from http_apis import wsgi_get as _get
from optuna_dashboard import wsgi


def _study_with_trials(url: str, name: str) -> None:
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    study.optimize(lambda t: t.suggest_float("lr_g", 1e-4, 1e-3, log=True), n_trials=3)
    failed = study.ask()
    failed.set_user_attr("fail_reason", "FloatingPointError: SyncGAN diverged: loss_g_adv = nan")
    study.tell(failed, state=optuna.trial.TrialState.FAIL)


def _dashboard_lists(url: str, name: str) -> None:
    app = wsgi(url)
    status, listing = _get(app, "/api/studies")
    assert status.startswith("200"), status
    study = next(s for s in listing["study_summaries"] if s["study_name"] == name)
    status, detail = _get(app, f"/api/studies/{study['study_id']}")
    assert status.startswith("200")
    states = sorted(t["state"] for t in detail["trials"])
    assert states == ["Complete", "Complete", "Complete", "Fail"]
    failed = next(t for t in detail["trials"] if t["state"] == "Fail")
    assert {"key": "fail_reason", "value": "FloatingPointError: SyncGAN diverged: loss_g_adv = nan"} in failed["user_attrs"]


def test_dashboard_opens_the_default_sqlite_storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    _study_with_trials(url, "syncgan_semi")
    _dashboard_lists(url, "syncgan_semi")


def test_dashboard_opens_a_postgresql_storage(postgres):
    _study_with_trials(postgres["url"], "syncgan_semi_pg")
    _dashboard_lists(postgres["url"], "syncgan_semi_pg")
