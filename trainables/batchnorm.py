"""BatchNorm modes for evaluating networks that were trained with batch statistics.

A GAN generator changes every step, so the running averages of its BatchNorm layers describe none
of its recent states (hence ``SyncGAN.generate`` uses batch statistics). Batch statistics couple the
samples of a batch, which per-sample work such as latent recovery cannot use; ``calibrated`` gives a
copy whose running statistics are the population statistics of the current weights on given inputs.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Iterable, Iterator

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def batchnorm_layers(module: nn.Module) -> list[_BatchNorm]:
    return [m for m in module.modules() if isinstance(m, _BatchNorm)]


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block; every submodule's mode restored after."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, mode in modes:
            m.train(mode)


@contextmanager
def batch_statistics(module: nn.Module) -> Iterator[nn.Module]:
    """BatchNorm layers normalize with each batch's own statistics inside the block.

    Everything else is in eval mode, and the running buffers are left exactly as they were.
    """
    layers = batchnorm_layers(module)
    saved = [{k: v.clone() for k, v in bn.named_buffers(recurse=False)} for bn in layers]
    with evaluating(module):
        for bn in layers:
            bn.train()
        try:
            yield module
        finally:
            with torch.no_grad():
                for bn, buffers in zip(layers, saved):
                    for k, v in buffers.items():
                        getattr(bn, k).copy_(v)


@torch.no_grad()
def calibrated(module: nn.Module, inputs: Iterable[torch.Tensor]) -> nn.Module:
    """A frozen eval-mode copy whose BatchNorm running statistics are the equal-weight average of
    the batch statistics over ``inputs`` (e.g. a few large batches of prior codes z).

    In eval mode each sample's output no longer depends on the rest of its batch, and for batches
    drawn like ``inputs`` it matches what batch-statistics mode gives, up to sampling noise.
    """
    copy_ = copy.deepcopy(module).requires_grad_(False)
    layers = batchnorm_layers(copy_)
    copy_.eval()
    for bn in layers:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
        bn.train()
    n = 0
    for x in inputs:
        copy_(x)
        n += 1
    if layers and n == 0:
        raise ValueError("calibrated: no input batches given")
    return copy_.eval()
