"""Benchmark 1: training throughput of hpo's epoch function against two baselines.

Same model (the `cnn` space's 2-layer CNN), batch size (128), optimizer (Adam) and data (a
real Fashion-MNIST subset), one epoch per repeat, repeats interleaved:

- hpo: hpo.training.loop's epoch function over the worker's device-resident tensors;
- bare: a hand-written PyTorch loop over in-memory tensors (randperm gather, forward,
  backward, step), the limit;
- dataloader: the reference reports' style, torchvision's FashionMNIST Dataset with
  ToTensor/Normalize read through a DataLoader (default num_workers=0).

    python benchmarks/throughput.py [--quick] [--device cpu|cuda]

Prints images/s and RATIO lines hpo/bare (goal >= 0.95) and hpo/dataloader.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks.common import environment, epoch_parser, interleaved, report, timed  # noqa: E402

MODEL = {"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 16, "head": "flatten"}  # as the cnn space builds it
BATCH = 128
LR = 1e-3


def main() -> None:
    args = epoch_parser(__doc__.splitlines()[0]).parse_args()
    from hpo import data
    from hpo.data.locations import writable_data_dir
    from hpo.devices import configure_threads, resolve_device
    from hpo.settings import Settings
    from hpo.models import build_model
    from hpo.training import TrainConfig
    from hpo.training.loop import _train_epoch, init_state

    settings = Settings.from_env()  # HPO_NUM_THREADS / HPO_WORKERS_PER_HOST, as a worker reads them
    device = resolve_device(args.device)
    threads = configure_threads(settings.num_threads, settings.workers_per_host)
    n_images = args.images or (2_048 if args.quick else 8_192)
    repeats = args.repeats or (3 if args.quick else 5)

    loaded = data.load("fashion-mnist")  # also unpacks Debian's files for torchvision below
    splits = data.make_splits(loaded, val_fraction=0.1, seed=0, device=device, train_subset=n_images, val_subset=256)
    train_idx = data.splits.validation_indices(len(loaded.train_y), 0.1, 0)[0][:n_images]
    config = TrainConfig(model=MODEL, optimizer="adam", lr=LR, batch_size=BATCH, epochs=1)
    steps = len(splits.train) // BATCH

    state = init_state(config, splits, device)

    def hpo_epoch() -> float:
        return timed(lambda: _train_epoch(state, config, splits.train, create_graph=False))

    torch.manual_seed(0)
    bare_model = build_model(MODEL, splits.input_shape, splits.num_classes).to(device)
    bare_opt = torch.optim.Adam(bare_model.parameters(), lr=LR)
    x_all, y_all = splits.train.x, splits.train.y

    def bare_epoch_body() -> None:
        bare_model.train()
        order = torch.randperm(len(y_all), device=device)
        for s in range(steps):
            idx = order[s * BATCH : (s + 1) * BATCH]
            loss = F.cross_entropy(bare_model(x_all[idx]), y_all[idx])
            bare_opt.zero_grad(set_to_none=True)
            loss.backward()
            bare_opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    import torchvision
    from torchvision import transforms

    norm = splits.normalization
    dataset = torchvision.datasets.FashionMNIST(
        root=str(writable_data_dir()), train=True, download=False,
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize(norm.mean, norm.std)]),
    )
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, train_idx.tolist()), batch_size=BATCH, shuffle=True, drop_last=True
    )
    torch.manual_seed(0)
    dl_model = build_model(MODEL, splits.input_shape, splits.num_classes).to(device)
    dl_opt = torch.optim.Adam(dl_model.parameters(), lr=LR)

    def dataloader_epoch_body() -> None:
        dl_model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            loss = F.cross_entropy(dl_model(xb), yb)
            dl_opt.zero_grad(set_to_none=True)
            loss.backward()
            dl_opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    candidates = {
        "hpo": hpo_epoch,
        "bare": lambda: timed(bare_epoch_body),
        "dataloader": lambda: timed(dataloader_epoch_body),
    }
    for fn in candidates.values():  # warm-up: allocator, cuDNN autotuning, page cache
        fn()
    seconds = interleaved(candidates, repeats)
    images = steps * BATCH
    rate = {name: images / s for name, s in seconds.items()}
    results = {
        **environment(), "device": str(device), "threads": threads, "images_per_epoch": images,
        "repeats": repeats, **{f"{name}_images_per_s": r for name, r in rate.items()},
    }
    report(results, [
        ("throughput hpo/bare", rate["hpo"] / rate["bare"], ">= 0.95"),
        ("throughput hpo/dataloader", rate["hpo"] / rate["dataloader"], None),
        ("throughput dataloader/bare", rate["dataloader"] / rate["bare"], None),
    ], args.json)


if __name__ == "__main__":
    main()
