"""The smallest study that still runs every layer: a tiny offline corpus, 2 epochs of 3 steps, 3 trials."""
from __future__ import annotations

TINY_STUDY = {
    "trainable": "syncgan",
    "corpus": {"name": "fashion_spoken", "overrides": {
        "train_per_class": 12, "test_per_class": 4, "voices": ["en"], "speeds": [160], "pitches": [30, 50, 70],
        "num_shards": 2,
    }},
    "config": {"epochs": 2, "batch_size": 16, "width": 8, "z_dim": 16, "eval_samples": 100, "steps_per_epoch": 3,
               "transfer_samples": 20, "transfer_steps": 10, "sync_warmup_steps": 20},
    "search": {"lr_g": {"loguniform": [1e-4, 1e-3]}, "semi_rate": {"choice": [0.4, 1.0]}},
    "objective": {"metric": "sync_rate", "mode": "max"},
    "num_samples": 3,
    "scheduler": {"type": "asha", "grace_period": 1, "reduction_factor": 2},
    "searcher": {"type": "optuna_tpe", "seed": 0, "n_startup_trials": 2},
    "classifiers": {"epochs_image": 1, "epochs_audio": 2},
    # one trial at a time, each worker taking most of the machine: a trial that ASHA stops must
    # hand its resources back, or the next one cannot start (fails after one 60 s attempt)
    "presets": {"local-cpu": {"trial_cpus": 0.01, "num_workers": 1, "cpus_per_worker": 1.5,
                              "max_concurrent_trials": 1, "startup_retries": 1}},
}
