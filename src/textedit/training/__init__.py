"""Training: the two-stage MIM-Net trainer, its config, checkpoints and logs."""

from textedit.training.config import LossWeights, OptimizerConfig, TrainConfig, TrainDataConfig

__all__ = ["TrainConfig", "TrainDataConfig", "OptimizerConfig", "LossWeights", "Trainer"]


def __getattr__(name: str):
    if name == "Trainer":
        from textedit.training.trainer import Trainer

        return Trainer
    raise AttributeError(name)
