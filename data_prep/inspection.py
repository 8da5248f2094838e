"""``python -m data_prep inspect <dir>``: counts, a PNG grid of sample pairs and a few wav files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data_prep import storage


def read_manifest_any(corpus: str | Path) -> dict:
    if storage.is_uri(corpus):
        m = storage.read_manifest_uri(str(corpus))
        if m is None:
            raise FileNotFoundError(f"{corpus}/manifest.json: no manifest; build the corpus first")
        return m
    from data_prep.manifest import load_manifest

    return load_manifest(corpus)


def _read_table(corpus: str | Path, rel: str):
    import pyarrow.parquet as pq

    if storage.is_uri(corpus):
        fs, path = storage.filesystem(str(corpus))
        return pq.read_table(path.rstrip("/") + "/" + rel, filesystem=fs)
    return pq.read_table(Path(corpus) / rel)


def summary(m: dict) -> str:
    """Human-readable counts of a manifest."""
    a = m["audio"]
    lines = [f"corpus {m['corpus']}  config {m['config_hash']}  built {m.get('created_utc', '?')}"
             f" in {m.get('build_seconds', '?')} s",
             f"image {m['image']['shape']} uint8; audio {a['shape']} float16 ({a.get('representation', 'log_mel')})",
             f"classes: {', '.join(m['classes']['image'])}"]
    for split, info in m["splits"].items():
        per = " ".join(f"{k}:{v}" for k, v in info["per_class"].items())
        lines.append(f"{split}: {info['rows']} pairs, {info['clips']} units, {len(info['files'])} files; per class {per}")
    q = m.get("quarantine", [])
    lines.append(f"quarantined: {len(q)}" + "".join(f"\n  {e['path']}: {e['reason']}" for e in q[:10])
                 + (f"\n  ... {len(q) - 10} more" if len(q) > 10 else ""))
    if m.get("resampled"):
        lines.append(f"resampled: {len(m['resampled'])} files (e.g. {m['resampled'][0]['path']} from "
                     f"{m['resampled'][0]['sample_rate']} Hz)")
    return "\n".join(lines)


def judges_summary(corpus: str | Path, m: dict) -> str:
    """One block per cached judge pair (``classifiers-*.json`` next to the corpus, written by
    trainables.classifiers): test accuracies, ``sync_rate_real`` (the judges' agreement on the
    real test pairs, the ceiling of any measured sync rate) and the audio judge per test speaker."""
    lines = []
    if storage.is_uri(corpus) or not Path(corpus).is_dir():
        return ""
    speakers = (m.get("audio", {}).get("speakers") or {})
    if speakers:
        lines.append(f"speakers: train {len(speakers.get('train', []))} ({', '.join(speakers.get('train', []))}); "
                     f"test {len(speakers.get('test', []))} ({', '.join(speakers.get('test', []))}); "
                     f"engines held out of training: {', '.join(speakers.get('held_out_engines', [])) or 'none'}")
    for f in sorted(Path(corpus).glob("classifiers-*.json")):
        try:
            j = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        acc = j.get("test_accuracy", {})
        srr = j.get("sync_rate_real")
        lines.append(f"judges {f.stem}: image {acc.get('image', float('nan')):.3f}, audio {acc.get('audio', float('nan')):.3f}"
                     f" on the test split; sync_rate_real {'?' if srr is None else f'{srr:.3f}'}")
        for side, what in (j.get("trained_on") or {}).items():
            lines.append(f"  {side} judge trained on {what}")
        per = j.get("audio_per_speaker") or {}
        if per:
            lines.append("  audio judge per test speaker: " + ", ".join(f"{k} {v['accuracy']:.2f}" for k, v in per.items()))
    if not any(x.startswith("judges") for x in lines):
        lines.append("judges: none cached yet (trainables.classifiers.ensure_classifiers trains them)")
    return "\n".join(lines)


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def inspect(corpus: str | Path, out: str | Path | None = None, n: int = 8, split: str = "test",
            n_wav: int = 4) -> dict:
    """Print-ready summary plus ``pairs.png`` (n tiles: image above its audio feature) and up to
    ``n_wav`` wav files of the audio column under ``out`` (default ``<corpus>/inspect``)."""
    from PIL import Image

    from data_prep.features import to_waveform

    m = read_manifest_any(corpus)
    if split not in m["splits"]:
        raise ValueError(f"{corpus}: no split {split!r}; splits: {sorted(m['splits'])}")
    out = Path(out) if out is not None else (Path(corpus) / "inspect" if not storage.is_uri(corpus) else Path("inspect"))
    out.mkdir(parents=True, exist_ok=True)
    table = _read_table(corpus, m["splits"][split]["files"][0])
    labels = table.column("label").to_numpy()
    rows, seen = [], set()
    for i, k in enumerate(labels):  # one pair per class first, then the rest in order
        if k not in seen:
            rows.append(i), seen.add(k)
    rows += [i for i in range(len(labels)) if i not in rows]
    rows = rows[:n]
    ih, iw = m["image"]["shape"]
    ah, aw = m["audio"]["shape"]
    scale = max(1, 96 // max(ih, ah))
    tiles = []
    wavs = []
    for j, i in enumerate(rows):
        img = np.frombuffer(table.column("image")[i].as_py(), np.uint8).reshape(ih, iw)
        aud = np.frombuffer(table.column("audio")[i].as_py(), "<f2").reshape(ah, aw).astype(np.float32)
        shown = aud[::-1] if m["audio"].get("representation", "log_mel") == "log_mel" else aud  # low freqs at the bottom
        top = Image.fromarray(img).resize((iw * scale, ih * scale), Image.Resampling.NEAREST)
        bottom = Image.fromarray(_to_u8(shown)).resize((aw * scale, ah * scale), Image.Resampling.NEAREST)
        tile = Image.new("L", (max(top.width, bottom.width), top.height + bottom.height + 2), 128)
        tile.paste(top, (0, 0)), tile.paste(bottom, (0, top.height + 2))
        tiles.append(tile)
        if j < n_wav:
            res = to_waveform(aud, m["audio"])
            if res is not None:
                import soundfile as sf

                name = out / f"pair-{table.column('pair_id')[i].as_py()}-class{labels[i]}.wav"
                sf.write(name, res[0], res[1], subtype="PCM_16")
                wavs.append(str(name))
    grid = Image.new("L", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), max(t.height for t in tiles)), 255)
    x = 0
    for t in tiles:
        grid.paste(t, (x, 0))
        x += t.width + 4
    png = out / f"pairs-{split}.png"
    grid.save(png)
    judges = judges_summary(corpus, m)
    result = {"summary": summary(m) + ("\n" + judges if judges else ""), "png": str(png), "wavs": wavs,
              "labels": [m["classes"]["image"][int(labels[i])] for i in rows]}
    (out / "inspect.json").write_text(json.dumps({k: v for k, v in result.items() if k != "summary"}, indent=2) + "\n")
    return result
