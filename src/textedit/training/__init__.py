"""Training: the generic trainer, its config, checkpoints and logs (each model's objective
is its recipe, :mod:`textedit.interfaces.recipe`)."""

from textedit.training.config import OptimizerConfig, TrainConfig, TrainDataConfig
from textedit.training.trainer import Trainer

__all__ = ["TrainConfig", "TrainDataConfig", "OptimizerConfig", "Trainer"]
