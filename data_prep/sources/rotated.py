"""A rotated-image domain (the SyncGAN paper's MNIST -> rotated MNIST cross-domain pairs)."""
from __future__ import annotations

import numpy as np


def rotate_images(images: np.ndarray, degrees: float) -> np.ndarray:
    """uint8 [N, H, W] rotated counter-clockwise by ``degrees`` about the centre, same size.

    Multiples of 90 on square images are exact (``np.rot90``); other angles are bilinear with
    black (0) corners, as the paper's rotated digits."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"rotate_images expects [N, H, W], got shape {images.shape}")
    q, r = divmod(float(degrees), 90.0)
    if r == 0 and images.shape[1] == images.shape[2]:
        return np.ascontiguousarray(np.rot90(images, int(q) % 4, axes=(1, 2)))
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(im).rotate(float(degrees), resample=Image.Resampling.BILINEAR))
                     for im in images])
