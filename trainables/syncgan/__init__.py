"""SyncGAN: two GANs tied by a synchronizer (Chen et al., 'SyncGAN')."""
from trainables.syncgan.config import SyncGANConfig
from trainables.syncgan.model import SyncGAN

__all__ = ["SyncGAN", "SyncGANConfig"]
