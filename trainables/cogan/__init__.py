"""CoGAN: two GANs coupled by shared weights (Liu & Tuzel, 'Coupled Generative Adversarial Networks', 2016)."""
from trainables.cogan.config import CoGANConfig
from trainables.cogan.model import CoGAN

__all__ = ["CoGAN", "CoGANConfig"]
