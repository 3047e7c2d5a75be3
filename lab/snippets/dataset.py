"""Code panel of the Dataset / DataLoader page: a custom Dataset, a seeded DataLoader, gradient noise, scaled lr."""
from __future__ import annotations

from core.training import TrainConfig
from lab.snippets.training import EMBEDDED, MNIST, model_code


def loader_script(data_source: str, n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int,
                  noise_n: int, noise_sizes: tuple[int, ...], noise_batches: int,
                  base_lr: float, base_batch: int, new_batch: int, noise_seed: int | None = None) -> str:
    """The page's Dataset and DataLoader, its gradient-noise measurement (seeded with noise_seed, the loader's seed
    when None) and the scaled learning rate; result = (len(loader), first batch labels of epochs 1 and 2,
    {batch size: mean noise}, new lr)."""
    noise_seed = seed if noise_seed is None else noise_seed
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

{MNIST if data_source == "mnist" else EMBEDDED}

class DigitDataset(Dataset):
    def __init__(self, images, labels):  # runs once
        self.images, self.labels = images, labels

    def __len__(self):  # how many samples
        return len(self.labels)

    def __getitem__(self, idx):  # one sample: ToTensor, then Normalize((0.5,), (0.5,))
        x = self.images[idx].unsqueeze(0).float() / 255  # (1, 28, 28) in [0, 1]
        return (x - 0.5) / 0.5, int(self.labels[idx])


dataset = DigitDataset(train_images[:{n}], train_labels[:{n}])
loader = DataLoader(dataset, batch_size={batch_size}, shuffle={shuffle}, drop_last={drop_last},
                    generator=torch.Generator().manual_seed({seed}))
print(len(dataset), "samples,", len(loader), "iterations per epoch")
first_labels = []
for epoch in range(2):
    for i, (x, y) in enumerate(loader):  # a whole epoch, as training does
        if i == 0:
            first_labels.append(y.tolist())
            print(f"epoch {{epoch + 1}}, first batch: x {{tuple(x.shape)}}, labels {{y.tolist()[:16]}}")

# Gradient noise: real LeNet-5 gradients on shuffled batches, compared with the gradient of all {noise_n} digits
{model_code(TrainConfig(activation="tanh"))}torch.manual_seed({noise_seed})
model = LeNet5({noise_seed})

def gradient(x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])

subset = DigitDataset(train_images[:{noise_n}], train_labels[:{noise_n}])
full = torch.zeros(sum(p.numel() for p in model.parameters()))
for x, y in DataLoader(subset, batch_size=500):
    full += gradient(x, y) * len(y) / len(subset)
noise = {{}}
for size in {list(noise_sizes)}:
    batches = DataLoader(subset, batch_size=size, shuffle=True, drop_last=True,
                         generator=torch.Generator().manual_seed({noise_seed}))
    spread = [((gradient(x, y) - full).norm() / full.norm()).item() for _, (x, y) in zip(range({noise_batches}), batches)]
    noise[size] = sum(spread) / len(spread)
    print(f"batch {{size:4d}}: ||g_batch - g_all|| / ||g_all|| = {{noise[size]:.3f}}")

# The linear scaling rule
new_lr = {base_lr!r} * {new_batch} / {base_batch}
print("learning rate for batch {new_batch}:", new_lr)
result = (len(loader), first_labels, noise, new_lr)
'''
