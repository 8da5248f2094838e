import torch

from trainables.syncgan import SyncGAN, SyncGANConfig
from trainables.syncgan.loop import fit, load_checkpoint, save_checkpoint


def _cfg(tiny_corpus, tiny_classifiers, tmp_path, **kw) -> SyncGANConfig:
    base = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                batch_size=32, epochs=2, eval_samples=200, tb_dir=str(tmp_path / "tb"))
    return SyncGANConfig(**{**base, **kw})


def test_fit_reports_every_epoch_with_checkpoint_and_tensorboard(tiny_corpus, tiny_classifiers, tmp_path):
    reports = []

    def report(metrics, ckpt_dir):
        state = torch.load(f"{ckpt_dir}/state.pt", weights_only=True)
        reports.append((metrics, state["epoch"]))

    last = fit(_cfg(tiny_corpus, tiny_classifiers, tmp_path), report)
    assert [e for _, e in reports] == [1, 2]
    for m, _ in reports:
        assert 0.0 <= m["sync_rate"] <= 1.0 and m["steps"] == 200 // 32
        assert {"loss_d_image", "loss_d_audio", "loss_s", "loss_g_adv", "loss_g_sync"} <= set(m)
    assert last["classifier_acc_image"] > 0.5
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event files written"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert "eval/sync_rate" in acc.Tags()["scalars"] and "samples/pairs" in acc.Tags()["images"]
    assert {f"samples/audio/{i}" for i in range(4)} <= set(acc.Tags()["audio"])


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = SyncGANConfig(width=8, z_dim=16)
    a = SyncGAN(cfg, (28, 28), (48, 48))
    save_checkpoint(a, 3, tmp_path)
    torch.manual_seed(1)
    b = SyncGAN(cfg, (28, 28), (48, 48))
    assert load_checkpoint(b, tmp_path) == 3
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(v, w), k
