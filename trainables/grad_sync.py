"""Data-parallel gradient averaging over ``torch.distributed`` (gloo on CPU, NCCL on GPU), and the checks
that the replicas stay in step.

A model's ``train_step`` calls ``average_grads(optimizer)`` after each backward pass and before that
optimizer steps (SyncGAN: three times a step, D, S, G; VAE-GAN twice). ``GradAverager`` does it:

- ``bucket`` (the default): the optimizer's gradients are flattened into buckets of at most
  ``BUCKET_BYTES`` (one bucket for every model here) and each bucket is all-reduced in one collective,
  as DDP's reducer does, but after the backward pass, so that a step with several backward passes
  and networks that only pass gradients through (SyncGAN's G step through D and S) needs no DDP
  wrapper, no ``no_sync`` and no unused-parameter search.
- ``per_tensor``: one blocking all-reduce per parameter tensor (the averaging before issue 35, kept as
  the baseline of ``benchmarks/scaling.py``). Both modes add the same numbers in the same order and
  leave bit-identical gradients.

A parameter whose gradient is None on this rank is averaged as zeros and gets the average: every
rank then steps the same parameters with the same gradients, and the collectives of all ranks
always match in size. Gradients are averaged as they are (scaled, with fp16 AMP: every rank uses the
same scale, and an inf on one rank is an inf on all after the sum, so all skip that step together).
"""
from __future__ import annotations

import time
from typing import Iterable, Union

import torch
import torch.distributed as dist
from torch import nn

AVERAGING_MODES = ("bucket", "per_tensor")
BUCKET_BYTES = 25 * 2**20
"""Largest bucket of one collective (DDP's default cap): bounds the extra memory of the flat copy."""

ParamSource = Union[torch.optim.Optimizer, nn.Module]


def _params(source: ParamSource) -> list[torch.Tensor]:
    """The trainable parameters of an optimizer (all its groups) or of a module, in a fixed order."""
    if isinstance(source, torch.optim.Optimizer):
        params = [p for group in source.param_groups for p in group["params"]]
    else:
        params = list(source.parameters())
    return [p for p in params if p.requires_grad]


def distributed() -> bool:
    """True inside an initialized process group of more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def allreduce_grads(source: ParamSource) -> None:
    """Average gradients across workers, one blocking all-reduce per tensor (``per_tensor`` mode, without
    the bookkeeping): the function Ray Train's workers called before ``GradAverager``."""
    world = dist.get_world_size()
    for p in _params(source):
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world


class GradAverager:
    """``average_grads`` for a model's ``train_step``: averages an optimizer's gradients over the default
    process group (``mode``: ``bucket`` or ``per_tensor``), and counts what that costs.

    ``take_stats()`` returns and resets: ``seconds`` spent in the collectives (host wall time; with
    NCCL a collective returns once it is queued, so on GPU this is its launch, not its run),
    ``bytes`` all-reduced and ``collectives`` issued since the last call.
    """

    def __init__(self, mode: str = "bucket", bucket_bytes: int = BUCKET_BYTES) -> None:
        if mode not in AVERAGING_MODES:
            raise ValueError(f"grad_averaging must be one of {', '.join(AVERAGING_MODES)}, got {mode!r}")
        self.mode = mode
        self.bucket_bytes = bucket_bytes
        self.world = dist.get_world_size()
        self._buckets: dict[int, list[list[torch.Tensor]]] = {}
        self.seconds = 0.0
        self.bytes = 0
        self.collectives = 0

    def __call__(self, source: ParamSource) -> None:
        if self.mode == "per_tensor":
            for p in _params(source):
                if p.grad is not None:
                    self._all_reduce(p.grad)
                    p.grad /= self.world
            return
        for bucket in self._buckets_of(source):
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in bucket]
            flat = torch.cat([g.reshape(-1) for g in grads])
            self._all_reduce(flat)
            flat /= self.world
            for p, g, avg in zip(bucket, grads, flat.split([g.numel() for g in grads])):
                if p.grad is None:
                    p.grad = g
                p.grad.copy_(avg.view_as(p.grad))

    def _buckets_of(self, source: ParamSource) -> list[list[torch.Tensor]]:
        """The source's parameters in buckets of one dtype and device, each at most ``bucket_bytes`` (a
        larger tensor alone), in parameter order; computed once per optimizer or module."""
        key = id(source)
        if key not in self._buckets:
            buckets: list[list[torch.Tensor]] = []
            size = 0
            for p in _params(source):
                nbytes = p.numel() * p.element_size()
                last = buckets[-1] if buckets else None
                if (last is None or size + nbytes > self.bucket_bytes
                        or (last[0].dtype, last[0].device) != (p.dtype, p.device)):
                    buckets.append([])
                    size = 0
                buckets[-1].append(p)
                size += nbytes
            self._buckets[key] = buckets
        return self._buckets[key]

    def _all_reduce(self, tensor: torch.Tensor) -> None:
        t0 = time.perf_counter()
        dist.all_reduce(tensor)
        self.seconds += time.perf_counter() - t0
        self.bytes += tensor.numel() * tensor.element_size()
        self.collectives += 1

    def take_stats(self) -> dict[str, float]:
        out = {"seconds": self.seconds, "bytes": float(self.bytes), "collectives": float(self.collectives)}
        self.seconds, self.bytes, self.collectives = 0.0, 0, 0
        return out


def replica_divergence(params: Iterable[torch.Tensor]) -> float:
    """The largest absolute difference between any rank's parameters and rank 0's (0.0: the replicas are
    identical, as averaged gradients keep them). A collective: every rank calls it at the same point."""
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1).float() for p in params])
        reference = flat.clone()
        dist.broadcast(reference, src=0)
        gap = (flat - reference).abs().max().reshape(1) if flat.numel() else torch.zeros(1, device=flat.device)
        dist.all_reduce(gap, op=dist.ReduceOp.MAX)
    return float(gap)


def agreed_min(value: int, device: torch.device | str = "cpu") -> int:
    """The smallest ``value`` over all ranks (a collective): e.g. the steps per epoch every rank can take."""
    t = torch.tensor([value], dtype=torch.long, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t)
