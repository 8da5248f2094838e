"""Gradient averaging on a real 2-rank gloo process group (two processes, no Ray): both modes leave the
ranks identical and equal to one process on the concatenated batch, reduce each parameter once, and
average a gradient that one rank lacks; the loop's agreed step count and replica divergence."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from trainables.grad_sync import AVERAGING_MODES, GradAverager, agreed_min, replica_divergence

STEPS = 5


def _nets() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4)), nn.Linear(4, 1)


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, 6, generator=g), torch.randn(16, 1, generator=g)


def _train(rows: slice, average_grads=None) -> list[torch.Tensor]:
    """STEPS steps of two networks with an optimizer each (as a GAN's D and G), on ``rows`` of the batch."""
    body, head = _nets()
    # SGD, not Adam: Adam's step does not change when every gradient is scaled, so a sum left undivided
    # would pass unseen
    opt_body, opt_head = torch.optim.SGD(body.parameters(), 0.1), torch.optim.SGD(head.parameters(), 0.1)
    x, y = _data()
    x, y = x[rows], y[rows]
    for _ in range(STEPS):
        for opt, net in ((opt_head, head), (opt_body, body)):
            opt.zero_grad(set_to_none=True)
            with torch.no_grad() if net is head else torch.enable_grad():
                h = body(x)
            loss = (head(h) - y).pow(2).mean()
            loss.backward(inputs=list(net.parameters()))
            if average_grads is not None:
                average_grads(opt)
            opt.step()
    return [p.detach().clone() for p in (*body.parameters(), *head.parameters())]


def _rank(rank: int, store: str, out: dict) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        result = {}
        for mode in (*AVERAGING_MODES, "capped"):
            # capped: buckets of at most 40 floats; the body's tensors (48, 8, 32, 4) make 3, the head's 1
            averager = GradAverager("bucket", bucket_bytes=4 * 40) if mode == "capped" else GradAverager(mode)
            weights = _train(slice(rank, None, 2), averager)
            result[mode] = {"weights": weights, "stats": averager.take_stats()}
        # a gradient only rank 0 has: both ranks end with half of it
        p = nn.Parameter(torch.zeros(3))
        if rank == 0:
            p.grad = torch.full((3,), 4.0)
        GradAverager("bucket")(torch.optim.SGD([p], 0.1))
        result["missing"] = p.grad.clone()
        # the checks the training loop runs: the smallest shard's steps, and how far the replicas are apart
        result["agreed"] = agreed_min(5 - 2 * rank)
        result["divergence"] = (replica_divergence([torch.ones(3)]), replica_divergence([torch.full((3,), 1.0 + 2 * rank)]))
        out[rank] = result
    finally:
        dist.destroy_process_group()


def test_both_modes_average_like_one_process_on_the_whole_batch(tmp_path):
    # a spawned manager: a forked one copies this process's Ray connection (the session's Ray runs by now) and
    # its gRPC threads; twice in three runs the next Ray Train run of the session then hung on a GCS call that
    # never returned (CI's 90-minute timeout), never with a spawned one
    with mp.get_context("spawn").Manager() as manager:
        out = manager.dict()
        mp.spawn(_rank, args=(str(tmp_path / "store"), out), nprocs=2, join=True)
        ranks = [out[0], out[1]]
    reference = _train(slice(None))  # one process, the concatenated batch (the mean of the two halves' means)
    n_params = sum(w.numel() for w in reference)
    for mode in AVERAGING_MODES:
        w0, w1 = ranks[0][mode]["weights"], ranks[1][mode]["weights"]
        assert all(torch.equal(a, b) for a, b in zip(w0, w1)), f"{mode}: the ranks' weights differ"
        for a, b in zip(w0, reference):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        stats = ranks[0][mode]["stats"]
        assert stats["bytes"] == 4 * n_params * STEPS, f"{mode}: each parameter all-reduced once a step"
    for mode in ("per_tensor", "capped"):
        assert all(torch.equal(a, b) for a, b in zip(ranks[0]["bucket"]["weights"], ranks[0][mode]["weights"]))
    assert ranks[0]["bucket"]["stats"]["collectives"] == 2 * STEPS  # one per optimizer and step
    assert ranks[0]["per_tensor"]["stats"]["collectives"] == 6 * STEPS  # one per tensor (4 + 2)
    assert ranks[0]["capped"]["stats"]["collectives"] == 4 * STEPS
    assert ranks[0]["capped"]["stats"]["bytes"] == 4 * n_params * STEPS
    assert torch.equal(ranks[0]["missing"], torch.full((3,), 2.0))
    assert torch.equal(ranks[1]["missing"], torch.full((3,), 2.0))
    assert [r["agreed"] for r in ranks] == [3, 3]
    assert [r["divergence"] for r in ranks] == [(0.0, 2.0), (0.0, 2.0)]

