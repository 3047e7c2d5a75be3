"""The course's own short training setup, shared by every page that starts a pair of background runs (image_tensor,
dataset, pitfalls): one neutral home, so no page imports another page's module for it."""
from __future__ import annotations

from core.training import TrainConfig

# The course's setup: tanh + SGD(lr=0.01, momentum=0.9); small enough that a pair of runs trains in a few seconds.
COURSE_RUN = TrainConfig(activation="tanh", optimizer="sgd", lr=0.01, momentum=0.9, batch_size=64, epochs=3,
                         train_size=2000)
