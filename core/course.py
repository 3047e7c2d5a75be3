"""The course's own short training setup, shared by every page that starts a pair of background runs (image_tensor,
dataset, pitfalls): one neutral home, so no page imports another page's module for it."""
from __future__ import annotations

from core.training import USUAL_LR, TrainConfig

# The course's setup: tanh + SGD(lr=0.01, momentum=0.9); small enough that a pair of runs trains in a few seconds.
COURSE_RUN = TrainConfig(activation="tanh", optimizer="sgd", lr=0.01, momentum=0.9, batch_size=64, epochs=3,
                         train_size=2000)

# The dataset page's test-batch-size model: one quick Adam epoch, a model worth testing. Trained once per dataset with
# the course's seed (never with a seed from a link: that would make a page process train) and shared by the class.
TEST_RUN = COURSE_RUN.but(optimizer="adam", lr=USUAL_LR["adam"], epochs=1)
