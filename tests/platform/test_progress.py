"""StudyProgress: one line per trial report, the study's objective first, then the model's headline metrics
(a failed trial's one line is platform.search.TrialErrors', tested with the failures)."""
from __future__ import annotations

import logging
from types import SimpleNamespace

from platform.progress import StudyProgress, quiet_ray


def test_lines_put_the_objective_first_and_say_how_each_trial_ended(tmp_path):
    lines: list[str] = []
    p = StudyProgress(["sync_kappa"], ["sync_rate", "sync_kappa", "fid_image"], ["lr_g", "semi_rate"], epochs=12,
                      out=lambda text, flush=False: lines.append(text))
    a = SimpleNamespace(trial_id="a", config={"lr_g": 2e-4, "semi_rate": 0.4, "epochs": 12}, last_result={},
                        local_path=str(tmp_path / "a"))
    b = SimpleNamespace(trial_id="b", config={"lr_g": 0.0005, "semi_rate": 1.0}, last_result={}, local_path=str(tmp_path / "b"))
    p.on_trial_start(0, [], a)
    p.on_trial_start(0, [], b)
    p.on_trial_result(0, [], b, {"epoch": 4, "sync_kappa": 0.7123, "sync_rate": 0.78, "fid_image": 12.5, "loss_s": 0.3})
    a.last_result = {"epoch": 6, "sync_kappa": 0.2}
    p.on_trial_complete(0, [], a)
    b.last_result = {"epoch": 12, "sync_kappa": 0.9}
    p.on_trial_complete(0, [], b)

    assert lines[0].startswith("trial 0 started: lr_g=0.0002, semi_rate=0.4")  # settings: 4 significant digits
    assert lines[2].startswith("trial 1 epoch 4/12  sync_kappa=0.712 | sync_rate=0.780 fid_image=12.500  [")
    assert "loss_s" not in lines[2] and lines[2].count("sync_kappa") == 1
    assert lines[3] == "trial 0 stopped by the scheduler at epoch 6: sync_kappa=0.200"
    assert lines[4] == "trial 1 finished epoch 12: sync_kappa=0.900" and len(lines) == 5


def test_a_models_warning_in_a_report_is_its_own_line_once(tmp_path):
    lines: list[str] = []
    p = StudyProgress(["sync_kappa"], ["sync_rate"], [], epochs=3, out=lambda text, flush=False: lines.append(text))
    a = SimpleNamespace(trial_id="a", config={}, last_result={}, local_path=str(tmp_path / "a"))
    p.on_trial_result(0, [], a, {"epoch": 1, "sync_kappa": 0.0, "sync_rate": 0.2,
                                 "warning": "warning: the synchronizer is still near chance after its warm-up"})
    p.on_trial_result(0, [], a, {"epoch": 2, "sync_kappa": 0.0, "sync_rate": 0.2})
    assert lines[1] == "trial 0 warning: the synchronizer is still near chance after its warm-up"
    assert len(lines) == 3 and "warning" not in lines[2]


def test_known_harmless_ray_warnings_are_dropped_and_others_kept():
    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    keep = Keep()
    logging.getLogger("ray").addHandler(keep)  # as Ray's own stderr handler
    try:
        quiet_ray()
        logging.getLogger("ray").warning("Token authentication is enabled for this Ray cluster.")
        logging.getLogger("ray.data._internal.executor").warning(
            "the Ray cluster currently does not have any available CPUs")  # a module logger, by propagation
        logging.getLogger("ray.tune.whatever").warning("a real problem")
    finally:
        logging.getLogger("ray").removeHandler(keep)
    assert keep.messages == ["a real problem"]


def test_the_callback_pickles_after_ray_replaced_print_and_prints_with_the_print_of_the_moment(monkeypatch):
    """Ray's tqdm_ray swaps builtins.print for its own (a Ray Data progress bar, e.g. a corpus built in the same
    process); a callback holding the print of import time then failed Tune's pickling of a second Tuner."""
    import builtins

    from ray import cloudpickle

    printed: list[str] = []
    original = builtins.print
    monkeypatch.setattr(builtins, "print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    p = StudyProgress(["sync_kappa"], ["sync_rate"], ["lr_g"], epochs=2)
    restored = cloudpickle.loads(cloudpickle.dumps(p))
    restored.on_trial_start(0, [], SimpleNamespace(trial_id="a", config={"lr_g": 0.001}))
    assert printed and printed[0].startswith("trial 0 started: lr_g=0.001")
    assert original is not builtins.print
