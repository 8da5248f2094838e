"""Pure PyTorch models, metrics and the Ray Train loops. Never imports ``platform``."""
