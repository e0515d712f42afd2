#!/usr/bin/env python3
"""One epoch as a user runs it, side by side with PyTorch (issue 13, part 5, the user-facing
figure): alternates `i2x-train train --epochs 1` and the same epoch in PyTorch for ROUNDS
rounds, for smallcnn and smallcnn-bn on Fashion-MNIST (the Debian package) and cifarcnn on
seeded random bytes written in CIFAR-10's binary format (no CIFAR package in Debian).

Both sides do the same work: the trainer's splits (5,000 validation, 100 probes per class,
5,000 generator images held out; the rest trained on, in a seeded order), batches of 64
converted from bytes (/255), SGD lr 0.05 momentum 0.9, BatchNorm in training mode, then a
validation pass over the 5,000 held-out images and the final checkpoint written. The
figure is i2x-train's own "trained N steps at X images/s" (training images over the whole
run, evaluation and checkpoint included) and PyTorch's images over the same span.

Prints one JSON line per round and architecture, then one per architecture with the median
of the per-round ratios (target >= 1.3).

Usage: /opt/i2x-venv/bin/python scripts/bench-epoch.py [ROUNDS] [--archs smallcnn,smallcnn-bn,cifarcnn]
       (default 5 rounds; needs a release build and torch)"""
import argparse, gzip, importlib.util, json, os, re, statistics, subprocess, sys, tempfile, time
import numpy as np
import torch
import torch.nn.functional as F

from openblas_env import openblas_env

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("mf", os.path.join(root, "scripts", "make-fixtures.py"))
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)
FASHION = "/usr/share/datasets/fashion-mnist"


def fashion():
    with gzip.open(f"{FASHION}/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{FASHION}/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)
    return images.copy(), labels.copy()


def write_cifar(directory):
    """50,000 + 10,000 seeded random images in CIFAR-10's binary format (label byte + 3,072)."""
    rng = np.random.default_rng(11)
    for name, count in [(f"data_batch_{i}.bin", 10000) for i in range(1, 6)] + [("test_batch.bin", 10000)]:
        rows = rng.integers(0, 256, size=(count, 3073), dtype=np.uint8)
        rows[:, 0] = np.arange(count) % 10
        rows.tofile(os.path.join(directory, name))
    images = np.concatenate([np.fromfile(os.path.join(directory, f"data_batch_{i}.bin"), dtype=np.uint8)
                             .reshape(-1, 3073) for i in range(1, 6)])
    return images[:, 1:].reshape(-1, 3, 32, 32), images[:, 0].astype(np.int64)


def pytorch_epoch(arch, images, labels):
    model = {"smallcnn": mf.SmallCNN, "smallcnn-bn": mf.SmallCNNBN, "cifarcnn": mf.CifarCNN}[arch]()
    n = len(labels)
    held = 5000 + 100 * 10 + 5000
    g = torch.Generator().manual_seed(1)
    permutation = torch.randperm(n, generator=g)
    train, validation = permutation[held:], permutation[:5000]
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = time.perf_counter()
    model.train()
    order = train[torch.randperm(len(train), generator=g)]
    steps = 0
    for s in range(0, len(order), 64):
        index = order[s:s + 64]
        if len(index) < 2:
            break
        x = x_all[index].float().div_(255)
        opt.zero_grad()
        F.cross_entropy(model.head(model.features(x)), y_all[index]).backward()
        opt.step()
        steps += 1
    model.eval()
    with torch.no_grad():
        for s in range(0, len(validation), 256):
            index = validation[s:s + 256]
            model.head(model.features(x_all[index].float().div_(255))).argmax(1)
    with tempfile.NamedTemporaryFile(suffix=".pt") as f:
        torch.save(model.state_dict(), f.name)
    seconds = time.perf_counter() - start
    return steps, steps * 64 / seconds


def i2x_epoch(arch, data_args, out):
    env = openblas_env()
    r = subprocess.run([os.path.join(root, ".build/release/i2x-train"), "train", "--arch", arch, "--epochs", "1",
                        "--batch", "64", "--lr", "0.05", "--momentum", "0.9", "--out", out, *data_args],
                       env=env, capture_output=True, text=True, check=True)
    m = re.search(r"trained (\d+) steps at ([0-9.]+) images/s", r.stdout + r.stderr)
    return int(m.group(1)), float(m.group(2))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rounds", nargs="?", type=int, default=5)
    p.add_argument("--archs", default="smallcnn,smallcnn-bn,cifarcnn")
    a = p.parse_args()
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    work = tempfile.mkdtemp(prefix="i2x-bench-epoch-")
    cifar_dir = os.path.join(work, "cifar")
    os.makedirs(cifar_dir)
    data = {}
    ratios = {}
    for r in range(1, a.rounds + 1):
        for arch in a.archs.split(","):
            if arch == "cifarcnn":
                if "cifar" not in data:
                    data["cifar"] = write_cifar(cifar_dir)
                images, labels = data["cifar"]
                data_args = ["--dataset", "cifar10", "--data-dir", cifar_dir]
            else:
                if "fashion" not in data:
                    data["fashion"] = fashion()
                images, labels = data["fashion"]
                data_args = ["--dataset", "fashion-mnist"]
            steps, ours = i2x_epoch(arch, data_args, os.path.join(work, f"run-{arch}-{r}"))
            torch_steps, theirs = pytorch_epoch(arch, images, labels)
            ratio = ours / theirs
            ratios.setdefault(arch, []).append(ratio)
            print(json.dumps({"figure": "epoch_side_by_side", "round": r, "arch": arch, "i2x_steps": steps,
                              "pytorch_steps": torch_steps, "i2x_images_per_second": round(ours, 1),
                              "pytorch_images_per_second": round(theirs, 1), "ratio": round(ratio, 3),
                              "torch": torch.__version__}), flush=True)
    for arch, values in ratios.items():
        print(json.dumps({"figure": "epoch_ratio_median", "arch": arch, "rounds": len(values),
                          "median_ratio": round(statistics.median(values), 3), "min_ratio": round(min(values), 3),
                          "max_ratio": round(max(values), 3), "target": 1.3}), flush=True)
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
