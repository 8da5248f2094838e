import numpy as np
import torch

from trainables.data import labelled_mask, load_split


def test_labelled_subsets_are_nested_and_sized():
    ids = np.arange(20000)
    small, large = labelled_mask(ids, 0.2, seed=3), labelled_mask(ids, 0.4, seed=3)
    assert not (small & ~large).any()
    assert abs(small.mean() - 0.2) < 0.02 and abs(large.mean() - 0.4) < 0.02
    assert labelled_mask(ids, 1.0).all() and not labelled_mask(ids, 0.0).any()
    assert (labelled_mask(ids, 0.3, seed=1) != labelled_mask(ids, 0.3, seed=2)).any()
    assert (labelled_mask(ids, 0.3, seed=1) == labelled_mask(ids, 0.3, seed=1)).all()


def test_load_split_decodes_contract(tiny_corpus):
    train = load_split(tiny_corpus, "train")
    assert train.image.shape == (200, 1, 28, 28) and train.audio.shape == (200, 1, 48, 48)
    x = train.images()
    assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1 and x.shape == (200, 1, 28, 28)
    assert train.audios().dtype == torch.float32
    assert (np.diff(train.pair_id) > 0).all()
    shards = [train.shard(r, 2) for r in range(2)]
    assert sorted(np.concatenate([s.pair_id for s in shards])) == sorted(train.pair_id)


def test_ray_dataset_gives_each_rank_its_own_rows(ray_local, tiny_corpus):
    from trainables.data import arrays_from_shard, ray_dataset, read_manifest

    manifest = read_manifest(tiny_corpus)
    ds = ray_dataset(tiny_corpus, "train", blocks=7)
    assert ds.count() == 200
    shards = [arrays_from_shard(ds.iterator(), manifest, rank, 2) for rank in range(2)]
    ids = [set(s.pair_id.tolist()) for s in shards]
    assert len(ids[0]) == len(ids[1]) == 100 and not ids[0] & ids[1]
    assert ids[0] | ids[1] == set(load_split(tiny_corpus, "train").pair_id.tolist())
    again = arrays_from_shard(ray_dataset(tiny_corpus, "train", blocks=3).iterator(), manifest, 1, 2)
    assert np.array_equal(again.pair_id, shards[1].pair_id) and np.array_equal(again.image, shards[1].image)
