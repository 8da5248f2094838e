"""A resume whose newest checkpoint was cut short continues from the newest intact checkpoint beside it
(``trainables.ray_train.intact_checkpoint``, what every Ray Train worker and PBT trial resumes through),
on Ray's own Checkpoint objects over checkpoints a real run wrote."""
import json
import shutil

from trainables.config import from_dict
from trainables.loop import fit
from trainables.ray_train import intact_checkpoint
from trainables.syncgan import SyncGANConfig


def test_resume_skips_a_truncated_checkpoint_for_the_newest_intact_one(tiny_corpus, tiny_classifiers, tmp_path, capsys):
    import ray.train

    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                  batch_size=16, steps_per_epoch=3, eval_samples=50, transfer_samples=0, sync_warmup_steps=5,
                  tb_dir=str(tmp_path / "tb"))
    run = tmp_path / "run"  # as Train lays out a run: checkpoint_<time> directories, names in time order

    def keep(metrics: dict, checkpoint_dir: str | None) -> None:
        shutil.copytree(checkpoint_dir, run / f"checkpoint_2026-01-01_00-00-0{int(metrics['epoch'])}.000000")

    fit("syncgan", from_dict(SyncGANConfig, {**config, "epochs": 2}), keep, hparams=False)
    newest = run / "checkpoint_2026-01-01_00-00-02.000000"
    state = newest / "state.pt"
    state.write_bytes(state.read_bytes()[:1000])  # cut short, as by a full disk or a crash
    capsys.readouterr()

    with intact_checkpoint(ray.train.Checkpoint(str(newest))) as directory:
        assert directory.endswith("checkpoint_2026-01-01_00-00-01.000000")
        fit("syncgan", from_dict(SyncGANConfig, {**config, "epochs": 3}), lambda m, c: None, resume_dir=directory,
            hparams=False)
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "tb" / "progress.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 2, 3]  # resumed after epoch 1's checkpoint, not from scratch, not from the cut one
    assert f"the newer checkpoint is damaged ({state}: damaged checkpoint file, it does not load" in capsys.readouterr().out
