import shutil

import numpy as np
import pytest
import torch

from trainables.checkpoint import Progress, load_checkpoint, save_checkpoint
from trainables.precision import Precision
from trainables.syncgan import SyncGAN, SyncGANConfig
from trainables.loop import fit
from tensorboard_records import hparams_records


def _cfg(tiny_corpus, tiny_classifiers, tmp_path, **kw) -> SyncGANConfig:
    base = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                batch_size=32, epochs=2, eval_samples=200, tb_dir=str(tmp_path / "tb"), transfer_samples=20,
                transfer_steps=10)
    return SyncGANConfig(**{**base, **kw})


def test_fit_reports_every_epoch_with_checkpoint_and_tensorboard(tiny_corpus, tiny_classifiers, tmp_path):
    reports = []

    def report(metrics, ckpt_dir):
        state = torch.load(f"{ckpt_dir}/state.pt", weights_only=True)
        reports.append((metrics, state["progress"]["epoch"]))

    last = fit("syncgan", _cfg(tiny_corpus, tiny_classifiers, tmp_path), report)
    assert [e for _, e in reports] == [1, 2]
    for m, _ in reports:
        assert 0.0 <= m["sync_rate"] <= 1.0 and m["steps"] == 200 // 32
        assert {"loss_d_image", "loss_d_audio", "loss_s", "loss_g_adv", "loss_g_sync"} <= set(m)
    assert last["classifier_acc_image"] > 0.5
    # the judges' ceiling on real test pairs: image accuracy times audio accuracy, give or take agreeing errors
    assert abs(last["sync_rate_real"] - last["classifier_acc_image"] * last["classifier_acc_audio"]) < 0.15
    assert all(m["fid_image"] >= 0 and m["kid_image"] == m["kid_image"] for m, _ in reports)
    # cross-modal transfer (latent recovery) is evaluated once, at the end
    assert "transfer_acc_a_to_b" not in reports[0][0]
    assert 0.0 <= last["transfer_acc_a_to_b"] <= 1.0 and 0.0 <= last["transfer_acc_b_to_a"] <= 1.0
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event files written"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert "eval/sync_rate" in acc.Tags()["scalars"] and "samples/pairs" in acc.Tags()["images"]
    assert {f"samples/audio/{i}" for i in range(4)} <= set(acc.Tags()["audio"])
    [hp] = hparams_records(tmp_path / "tb")
    assert hp["start"].hparams["lr_g"].number_value == pytest.approx(SyncGANConfig().lr_g)
    assert {"eval/sync_kappa", "eval/transfer_acc_a_to_b"} <= set(hp["metrics"])
    assert set(hp["metrics"]) <= set(acc.Tags()["scalars"]), "an HParams metric names no logged scalar"
    assert hp["end"] is not None and hp["end"].status == 1  # STATUS_SUCCESS


def _step(model: SyncGAN, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    x_a, x_b = torch.rand(8, 1, 28, 28, generator=g) * 2 - 1, torch.rand(8, 1, 48, 48, generator=g) * 2 - 1
    y = torch.arange(8) % 4
    if model.pool is None:  # the rows the synchronizer's batch is drawn from, as the loop binds them
        model.bind_train_data(((x_a + 1) * 127.5).round().numpy().astype("uint8"), x_b.numpy().astype("float16"),
                              y.numpy(), np.ones(8, bool), "cpu")
    model.train_step(x_a, x_b, y, torch.ones(8, dtype=torch.bool))


def test_checkpoint_round_trip_restores_weights_optimizers_scaler_and_rng(tmp_path):
    cfg = SyncGANConfig(width=8, z_dim=16, sync_warmup_steps=0)  # fp16 on a CPU is slow: no warm-up
    torch.manual_seed(0)
    a = SyncGAN(cfg, (28, 28), (48, 48))
    a.precision = Precision("fp16", "cpu")
    _step(a)
    save_checkpoint(a, Progress(epoch=3, step_in_epoch=2, global_step=20), {"width": 8}, tmp_path)
    expected_noise = torch.rand(5)
    torch.manual_seed(1)
    b = SyncGAN(cfg, (28, 28), (48, 48))
    b.precision = Precision("fp16", "cpu")
    assert load_checkpoint(b, tmp_path) == Progress(3, 2, 20)
    assert torch.equal(torch.rand(5), expected_noise), "the RNG state was not restored"
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(v, w), k
    assert b.opt_g.state_dict()["state"][0]["step"] == 1  # Adam moments came back
    assert b.precision.scaler.get_scale() == a.precision.scaler.get_scale()
    # weights_only loading works for every file (no pickled objects)
    for f in tmp_path.iterdir():
        torch.load(f, weights_only=True)


def test_checkpoint_from_another_model_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="state.pt"):
        load_checkpoint(SyncGAN(SyncGANConfig(width=8, z_dim=16), (28, 28), (48, 48)), tmp_path / "empty")


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_step_trains_every_network(amp):
    torch.manual_seed(0)
    model = SyncGAN(SyncGANConfig(width=8, z_dim=16, amp=amp, sync_warmup_steps=0), (28, 28), (48, 48))
    model.precision = Precision(amp, "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items() if v.is_floating_point()}
    for seed in range(3):
        _step(model, seed)
    for name in ("g_a", "g_b", "d_a", "d_b", "sync"):
        changed = [k for k in before if k.startswith(name + ".") and not torch.equal(before[k], model.state_dict()[k])]
        assert changed, f"{name} did not change under amp={amp}"
    if amp == "fp16":
        assert model.precision.scaler.is_enabled()


def test_resume_mid_epoch_reproduces_the_uninterrupted_run(tiny_corpus, tiny_classifiers, tmp_path):
    """Checkpoints every 4 steps (6 steps an epoch); resuming from step 4 lands on the same weights."""
    torch.set_num_threads(1)
    saved: list[tuple[dict, object]] = []

    def keep(metrics, ckpt_dir):
        dest = tmp_path / f"ckpt-{len(saved)}"
        shutil.copytree(ckpt_dir, dest)
        saved.append((dict(metrics), dest))

    cfg = _cfg(tiny_corpus, tiny_classifiers, tmp_path, checkpoint_every_steps=4, eval_samples=50)
    fit("syncgan", cfg, keep)
    steps = [torch.load(d / "state.pt", weights_only=True)["progress"]["global_step"] for _, d in saved]
    assert steps == [4, 6, 8, 12]  # every 4 steps, plus the two epoch ends
    assert saved[0][0]["epoch"] == pytest.approx(4 / 6) and 0.0 <= saved[0][0]["sync_rate"] <= 1.0

    resumed: list[tuple[dict, object]] = []
    cfg2 = _cfg(tiny_corpus, tiny_classifiers, tmp_path / "b", checkpoint_every_steps=4, eval_samples=50)
    fit("syncgan", cfg2, lambda m, d: resumed.append((dict(m), shutil.copytree(d, tmp_path / f"r-{len(resumed)}"))),
        resume_dir=str(saved[0][1]))
    assert [m["step"] for m, _ in resumed] == [6, 8, 12]
    final_a = torch.load(saved[-1][1] / "state.pt", weights_only=True)["model"]
    final_b = torch.load(resumed[-1][1] / "state.pt", weights_only=True)["model"]
    for k in final_a:
        assert torch.equal(final_a[k], final_b[k]), f"{k} differs after resuming"


def test_an_epoch_is_logged_before_its_report_that_may_stop_the_trial(tiny_corpus, tiny_classifiers, tmp_path):
    """ASHA stops a trial on its epoch's report and Tune kills the worker at once: the epoch's TensorBoard
    scalars and progress line must already be on disk when the report is made."""
    import json

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    class Stopped(Exception):
        pass

    seen = {}

    def report(metrics, ckpt_dir):
        if metrics["epoch"] == 1:
            acc = EventAccumulator(str(tmp_path / "tb")).Reload()
            seen["tb"] = [e.step for e in acc.Scalars("eval/sync_kappa")]
            # the HParams row exists, unfinished, and its metrics' last values are logged
            seen["hparams"] = [("eval/sync_kappa" in hp["metrics"], hp["end"]) for hp in hparams_records(tmp_path / "tb")]
            seen["progress"] = [json.loads(line)["epoch"] for line in (tmp_path / "tb" / "progress.jsonl").read_text().splitlines()]
            raise Stopped

    with pytest.raises(Stopped):
        fit("syncgan", _cfg(tiny_corpus, tiny_classifiers, tmp_path, transfer_samples=0), report)
    assert seen == {"tb": [1], "progress": [1], "hparams": [(True, None)]}


def test_no_hparams_record_where_another_writer_owns_it(tiny_corpus, tiny_classifiers, tmp_path):
    """Under Tune, Tune's TensorBoard logger writes the trial directory's HParams record: fit writes none."""
    fit("syncgan", _cfg(tiny_corpus, tiny_classifiers, tmp_path, epochs=1, transfer_samples=0), lambda m, d: None,
        hparams=False)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*")) and hparams_records(tmp_path / "tb") == []
