"""TensorBoard's HParams records in a run directory, read back file by file the way TensorBoard stores them."""
from __future__ import annotations

from pathlib import Path


def hparams_records(run_dir: str | Path) -> list[dict]:
    """One dict per event file holding an HParams record: its hyperparameters (``start``, a
    SessionStartInfo), its metric tags, and its SessionEndInfo (``end``, None while unfinished)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    records = []
    for path in sorted(Path(run_dir).glob("events.out.tfevents.*")):
        acc = EventAccumulator(str(path)).Reload()
        try:
            content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
        except KeyError:  # no HParams data in this file
            continue
        experiment = metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG])
        end = content.get(metadata.SESSION_END_INFO_TAG)
        records.append({
            "file": path.name,
            "start": metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG]),
            "metrics": [m.name.tag for m in experiment.metric_infos],
            "end": metadata.parse_session_end_info_plugin_data(end) if end is not None else None,
        })
    return records
