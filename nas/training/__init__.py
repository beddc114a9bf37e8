"""Full training of any ``ArchConfig`` with the papers' protocol (``nas train``); see :mod:`nas.training.trainer`."""

from nas.training.trainer import TrainCallbacks, TrainResult, TrainSettings, init_from, train, validate

__all__ = ["TrainCallbacks", "TrainResult", "TrainSettings", "init_from", "train", "validate"]
