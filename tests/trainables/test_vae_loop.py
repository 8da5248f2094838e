"""VAE and VAE-GAN through the shared training loop: reports, evaluation, checkpoints, TensorBoard."""
import pytest
import torch

from trainables.loop import fit
from trainables.registry import get_trainable


@pytest.mark.parametrize("name", ["vae", "vaegan"])
def test_fit_reports_image_accuracy_from_test_audio(name, tiny_corpus, tiny_classifiers, tmp_path):
    torch.set_num_threads(1)
    spec = get_trainable(name)
    small = {"width": 8, "fc_width": 64} if name == "vae" else {"width": 8, "conv_stages": 2}
    cfg = spec.config_cls(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), batch_size=20,
                          epochs=2, eval_samples=60, tb_dir=str(tmp_path / "tb"), **small)
    reports = []

    def report(metrics, ckpt_dir):
        state = torch.load(f"{ckpt_dir}/state.pt", weights_only=True)
        reports.append((dict(metrics), state["progress"]["epoch"], sorted(state["optimizers"])))

    last = fit(name, cfg, report)
    assert [e for _, e, _ in reports] == [1, 2]
    assert reports[0][2] == (["opt_vae"] if name == "vae" else ["opt_d", "opt_vae"])
    assert 0.0 <= last["image_acc_from_audio"] <= 1.0 and last["fid_image"] >= 0
    assert {"loss_reconstruction", "loss_kl"} <= set(last)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(tmp_path / "tb")).Reload().Tags()
    assert "eval/image_acc_from_audio" in tags["scalars"] and "samples/audio_to_image" in tags["images"]
