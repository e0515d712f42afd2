"""Train a PyTorch CNN on Fashion-MNIST while i2xd explains it: the three i2x lines are marked.

    .build/release/i2xd --data-dir i2x-data &
    python examples/pytorch_attach.py [--endpoint tcp://127.0.0.1:7070] [--run torch-fmnist] [--steps N]

Reads Debian's /usr/share/datasets/fashion-mnist/*.gz (package dataset-fashion-mnist) with numpy,
trains one epoch (batch 64, SGD), publishes a checkpoint every 100 steps and prints the daemon's
uncertain prototypes at the end (what `i2x uncertain RUN` shows).
"""

import argparse
import gzip
import json
import logging
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import i2x

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(path: str) -> np.ndarray:
    """An IDX file (gzipped or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split: str):
    prefix = "train" if split == "train" else "t10k"
    images = idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz"))
    labels = idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz"))
    return images[:, None], labels.astype(np.int64)  # U8 [N,1,28,28], I64 [N]


class Net(nn.Module):
    """smallcnn-bn: three conv-BN-ReLU blocks (16, 32, 64), max-pools, global average pool, fc."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
        self.conv3, self.bn3 = nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=os.environ.get("I2X_ENDPOINT", "tcp://127.0.0.1:7070"))
    parser.add_argument("--run", default="torch-fmnist")
    parser.add_argument("--steps", type=int, default=0, help="stop after N steps (0: one epoch)")
    parser.add_argument("--publish-every", type=int, default=100)
    parser.add_argument("--out", default=None, help="directory for the outbox (default i2x-runs/RUN)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    torch.manual_seed(0)

    images, labels = load("train")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))
    # A held-out, class-stratified probe set: 100 images per class, never trained on.
    probe_index = np.concatenate([order[labels[order] == c][:100] for c in range(10)])
    train_index = np.setdiff1d(order, probe_index)
    x = torch.from_numpy(images[train_index].astype(np.float32) / 255)  # the model takes [0, 1] inputs
    y = torch.from_numpy(labels[train_index])
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    # i2x line 1: register the run (architecture from the model, checked against i2x's engine).
    pub = i2x.Publisher(args.endpoint, run=args.run, model=model, input_shape=(1, 28, 28),
                        probe=(images[probe_index], labels[probe_index]), classes=CLASSES, out=args.out)

    step, started = 0, time.time()
    batches = torch.randperm(len(y)).split(64)
    for batch in batches:
        model.train()
        loss = F.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        last = step == len(batches) or step == args.steps
        if step % args.publish_every == 0 or last:
            # i2x line 2: hand the weights to the publisher (never blocks on the daemon).
            pub.publish(model, step=step, epoch=0, metrics={"loss": loss.item()}, final=last)
        for directive in pub.directives():
            print(f"directive {directive.id}: fine-tune pair {directive.payload.get('pair')} (not executed here)")
            pub.report(directive, "failed", reason="not executed: the PyTorch example does not run fine-tunes")
        if last:
            break
    print(f"trained {step} steps in {time.time() - started:.1f} s, loss {loss.item():.3f}")

    # i2x line 3: wait for the daemon's acknowledgements (what is left stays in the outbox).
    pending = pub.close(timeout=30)
    print(f"published {pub.published} checkpoints, {pending} pending, {len(pub.refused)} refused")

    client = i2x.Client(args.endpoint)
    deadline = time.time() + 120
    while time.time() < deadline and client.status()["queue_depth"] > 0:
        time.sleep(0.5)
    try:
        answer = client.uncertain(args.run)
    except i2x.I2XError as error:
        print(f"i2x uncertain {args.run}: {error.code}: {error.message}")
        return
    print(f"i2x uncertain {args.run} (analysis of step {answer['step']}):")
    names = answer.get("class_names", CLASSES)
    flags = answer.get("uncertain", [])
    if not flags:
        print("  no uncertain prototypes (the rule needs at least three intervals of analysed checkpoints)")
    for flag in flags:
        pair = flag.get("pair") or [flag.get("classA"), flag.get("classB")]
        readable = [names[c] if isinstance(c, int) else c for c in pair]
        print(f"  prototype {flag.get('prototype')}: {' – '.join(map(str, readable))}, score {flag.get('score', 0):.3f}")
    if os.environ.get("I2X_EXAMPLE_JSON"):
        print(json.dumps(answer)[:2000])


if __name__ == "__main__":
    main()
