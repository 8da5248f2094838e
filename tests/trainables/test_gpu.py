"""On a CUDA GPU (marked ``gpu``; skipped without one, run by ``benchmarks/gpu_check.sh`` on a lent machine):
mixed-precision steps of SyncGAN and VAE-GAN track float32, a checkpoint written on the GPU resumes on
the CPU, and a Ray Train worker trains on the GPU."""
from __future__ import annotations

import dataclasses
import math
import shutil
import uuid
from pathlib import Path

import pytest
import torch

from trainables.config import from_dict
from trainables.data import load_split
from trainables.loop import fit
from trainables.precision import Precision
from trainables.registry import get_trainable

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

AMP_STEPS = 50
MODELS = {  # the models at the widths of the CPU recipes (benchmarks/quality.py), batch 32
    "syncgan": {"sync_warmup_steps": 0, "transfer_samples": 0},
    "vaegan": {"width": 32},
}


def amp_losses(name: str, amp: str, corpus: Path, device: str, steps: int = AMP_STEPS) -> list[dict[str, float]]:
    """``steps`` training steps of ``name`` under ``amp`` from one seed, on the corpus's first training
    rows (the same batches and random draws for every ``amp``); each step's losses."""
    spec = get_trainable(name)
    cfg = from_dict(spec.config_cls, {"corpus_dir": str(corpus), "batch_size": 32, "amp": amp, **MODELS[name]})
    train = load_split(corpus, "train")
    torch.manual_seed(0)
    model = spec.model_cls(cfg, train.image.shape[2:], train.audio.shape[2:]).to(device)
    model.precision = Precision(amp, device)
    labelled = torch.ones(len(train), dtype=torch.bool)
    if hasattr(model, "bind_train_data"):
        model.bind_train_data(train.image, train.audio, train.label, labelled.numpy(), device)
    torch.manual_seed(1)
    out = []
    n = len(train) // cfg.batch_size
    for step in range(steps):
        rows = slice((step % n) * cfg.batch_size, (step % n + 1) * cfg.batch_size)
        batch = (train.images(rows).to(device), train.audios(rows).to(device),
                 torch.from_numpy(train.label[rows]).to(device), labelled[rows].to(device))
        out.append({k: v for k, v in model.train_step(*batch).items() if k.startswith("loss")})
    return out


def gaps(amp: list[dict[str, float]], fp32: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Per loss, (the first step's |AMP - float32| / (|float32| + 0.05): from identical weights, precision
    alone; the mean over the steps' |AMP - float32| / (|float32| + 0.2): the trajectories part as any
    two runs of a GAN do, so this only bounds how far)."""
    first = {k: abs(amp[0][k] - v) / (abs(v) + 0.05) for k, v in fp32[0].items()}
    mean = {}
    for k in fp32[0]:
        a, b = (sum(s[k] for s in run) / len(run) for run in (amp, fp32))
        mean[k] = abs(a - b) / (abs(b) + 0.2)
    return first, mean


@pytest.mark.parametrize("amp", ["fp16", "bf16"])
@pytest.mark.parametrize("name", list(MODELS))
def test_amp_steps_are_finite_and_close_to_float32(name, amp, tiny_corpus):
    """Measured on CPU autocast (torch 2.14, 50 steps): first-step gaps < 0.001, mean gaps <= 0.15."""
    fp32 = amp_losses(name, "off", tiny_corpus, "cuda")
    mixed = amp_losses(name, amp, tiny_corpus, "cuda")
    assert all(math.isfinite(v) for step in mixed for v in step.values())
    first, mean = gaps(mixed, fp32)
    assert max(first.values()) < 0.02, first
    assert max(mean.values()) < 0.25, mean


def test_checkpoint_written_on_gpu_resumes_on_cpu(tiny_corpus, tiny_classifiers, tmp_path):
    spec = get_trainable("syncgan")
    cfg = from_dict(spec.config_cls, dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8,
                                          z_dim=16, batch_size=16, epochs=1, eval_samples=50, transfer_samples=0,
                                          sync_warmup_steps=5, amp="auto"))
    saved = tmp_path / "ckpt"

    def keep(metrics: dict, checkpoint_dir: str | None) -> None:
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(checkpoint_dir, saved)

    fit(spec, cfg, keep, device="cuda", hparams=False)
    state = torch.load(saved / "state.pt", weights_only=True)  # no map_location: where the tensors were saved
    assert all(v.is_cuda for v in state["model"].values())
    assert state["precision"]["mode"] == "fp16" and state["precision"]["scaler"]  # amp auto on CUDA

    reports: list[dict] = []
    last = fit(spec, dataclasses.replace(cfg, epochs=2), lambda m, _: reports.append(m), device="cpu",
               resume_dir=str(saved), hparams=False)
    assert [r["epoch"] for r in reports] == [2] and last["step"] == 2 * state["progress"]["global_step"]
    assert all(math.isfinite(v) for k, v in last.items() if k.startswith("loss"))


def test_ray_train_worker_trains_on_the_gpu(ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    from trainables.ray_train import make_trainer

    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                  batch_size=16, epochs=1, eval_samples=50, transfer_samples=0, sync_warmup_steps=5)
    result = make_trainer("syncgan", config, {"num_workers": 1, "cpus_per_worker": 1, "use_gpu": True,
                                              "gpus_per_worker": 1, "max_failures": 0, "startup_retries": 2},
                          name=f"gpu-{uuid.uuid4().hex[:6]}", storage_path=str(tmp_path / "runs")).fit()
    assert result.error is None and result.metrics["epoch"] == 1
    with result.checkpoint.as_directory() as d:
        state = torch.load(Path(d) / "state.pt", weights_only=True)
    assert all(v.is_cuda for v in state["model"].values())
    assert state["precision"]["mode"] == "fp16"
