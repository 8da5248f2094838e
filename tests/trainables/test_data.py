import numpy as np
import torch

from trainables.data import evaluation_rows, labelled_mask, load_split


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


def test_an_epoch_of_more_steps_than_a_pass_repeats_the_rows_reshuffled(tiny_corpus):
    """steps_per_epoch beyond one pass (a small class-folder corpus): full batches, every row once per
    pass, passes in different orders, and a resumed epoch continues the same order."""
    from trainables.data import batches

    data = load_split(tiny_corpus, "train")  # 200 rows: 12 full batches of 16 a pass
    first = list(batches(data, 16, np.random.default_rng(5), 1.0, 0, steps=30))
    assert len(first) == 30 and all(len(b[2]) == 16 for b in first)
    seen = [first[p * 12:(p + 1) * 12] for p in range(2)]
    for p in seen:  # within a pass no row comes twice
        images = torch.cat([b[0] for b in p]).flatten(1)
        assert len(torch.unique(images, dim=0)) == len(images)
    assert not torch.equal(seen[0][0][0], seen[1][0][0])  # the second pass is reshuffled
    resumed = list(batches(data, 16, np.random.default_rng(5), 1.0, 0, steps=30, start=17))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(resumed, first[17:]))
    one_pass = list(batches(data, 16, np.random.default_rng(5), 1.0, 0))
    assert len(one_pass) == 12 and torch.equal(one_pass[0][0], first[0][0])  # the first pass is the plain epoch's


def test_evaluation_rows_take_the_classes_in_turn_from_a_split_sorted_by_class():
    labels = np.repeat([0, 1, 2], [5, 3, 4])  # stored sorted by class, unequal sizes
    rows = evaluation_rows(labels, 6)
    assert sorted(np.bincount(labels[rows])) == [2, 2, 2]  # not the first six rows: five 0s and one 1
    assert list(rows[:3]) == [0, 5, 8]  # each class's rows in their stored order
    everything = evaluation_rows(labels, 100)
    assert sorted(everything) == list(range(12))  # every row once when n exceeds the split
    assert np.bincount(labels[evaluation_rows(labels, 10)]).tolist() == [4, 3, 3]  # class 1 runs out
