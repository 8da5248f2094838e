"""VAE and VAE-GAN: audio encoder -> image decoder (the seed slides' cross-modal generators)."""
from trainables.vae.config import VAEConfig, VAEGANConfig
from trainables.vae.model import VAE, VAEGAN

__all__ = ["VAE", "VAEGAN", "VAEConfig", "VAEGANConfig"]
