"""``benchmarks/generalization.py``'s report arithmetic: runs of several invocations merged into one table."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from generalization import last_line, merged, summarize  # noqa: E402

CORPORA = {c: {"ceiling": 0.8, "n_classes": 5} for c in ("a", "b")}


def _run(corpus: str, seed: int, sync: float, kappa: float = 1.0) -> dict:
    return {"corpus": corpus, "rate": 1.0, "seed": seed, "transfer": {"transfer_acc_a_to_b": sync},
            "curve": [{"seconds": 10.0, "step": 50, "sync_rate": sync / 2, "sync_kappa": 0.0},
                      {"seconds": 20.0, "step": 100, "sync_rate": sync, "sync_kappa": kappa}]}


def _meta(runs: list[dict], commit: str, **share) -> dict:
    return {"runs": runs, "corpora": CORPORA, "command": f"run {commit}", "seeds": sorted({r["seed"] for r in runs}),
            "rates": [1.0], "wall_minutes": 1.0, "provenance": {"git_commit": commit}, **share}


def test_a_later_json_replaces_the_earlier_runs_of_its_corpus_and_rate_and_keeps_the_others():
    old = _meta([_run("a", s, 0.40) for s in range(3)] + [_run("b", s, 0.60) for s in range(3)], "old")
    new = _meta([_run("a", s, 0.76) for s in range(3)], "new")
    meta = merged([old, new])
    assert sorted((r["corpus"], r["sync"]) for r in
                  ({"corpus": r["corpus"], "sync": r["curve"][-1]["sync_rate"]} for r in meta["runs"])) == \
        [("a", 0.76)] * 3 + [("b", 0.60)] * 3
    assert [p["git_commit"] for p in meta["provenances"]] == ["old", "new"] and meta["command"] == "run old; run new"
    rows = {r["corpus"]: r for r in summarize(meta["runs"], CORPORA)}
    assert rows["a"]["ratio"][0] == pytest.approx(0.76 / 0.8) and rows["a"]["hits"] == 3  # 0.76 >= 0.9 x 0.8
    assert rows["b"]["ratio"][0] == pytest.approx(0.60 / 0.8) and rows["b"]["hits"] == 0
    assert last_line(list(rows.values())) == "worst_ceiling_ratio=0.750 transfer_min=0.600"


def test_a_collapse_is_credited_its_kappa_not_its_raw_agreement():
    """Sync rate 0.76 with kappa 0.2 on 5 classes counts as 0.2 + 0.2 x 0.8 = 0.36, and reaches no target."""
    row = summarize([_run("a", 0, 0.76, kappa=0.2)], CORPORA)[0]
    assert row["best"][0] == pytest.approx(0.36) and row["hits"] == 0


def test_runs_that_shared_the_machine_differently_are_not_merged():
    one = _meta([_run("a", 0, 0.5)], "x")
    two = _meta([_run("b", 0, 0.5)], "y", threads=2, parallel=1)
    with pytest.raises(SystemExit, match="threads/parallel"):
        merged([one, two])
