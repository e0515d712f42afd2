#!/usr/bin/env python3
"""The PyTorch side of the side-by-side: smallcnn training images/s and batched GradCAM
images/s at batch 64 on 2 threads, one JSON line per figure (same shapes as i2x-bench).
Needs torch (pip install torch); not used by the build or the tests. ONLY=train skips GradCAM.
scripts/bench-train.sh alternates it with i2x-bench for the side-by-side training figures."""
import importlib.util, json, os, time
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
spec = importlib.util.spec_from_file_location("mf", os.path.join(os.path.dirname(__file__), "make-fixtures.py"))
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)


SmallCNN = mf.SmallCNN


def timed(fn, inner, repeats=5, warmup=10):
    """Median seconds per call over `repeats` windows of `inner` calls, after `warmup` calls
    (WARMUP overrides it; oneDNN builds its convolution primitives in the first steps, and
    PyTorch's first few dozen steps run slower than its epoch)."""
    for _ in range(int(os.environ.get("WARMUP", str(warmup)))):
        fn()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    return sorted(samples)[len(samples) // 2]


def training_images(shape):
    """What i2x-bench's train figure uses: Fashion-MNIST's training bytes (the Debian package)
    for 1x28x28, seeded random bytes for CIFAR's shape."""
    if shape == (1, 28, 28):
        import gzip
        import numpy as np
        root = "/usr/share/datasets/fashion-mnist"
        with gzip.open(f"{root}/train-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
        with gzip.open(f"{root}/train-labels-idx1-ubyte.gz") as f:
            labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)
        return torch.from_numpy(images.copy()), torch.from_numpy(labels.copy()), "fashion-mnist"
    g = torch.Generator().manual_seed(11)
    images = torch.randint(0, 256, (2048,) + shape, dtype=torch.uint8, generator=g)
    return images, torch.arange(2048) % 10, "random-bytes"


torch.manual_seed(0)
for name, model, shape in [
    ("smallcnn", SmallCNN(), (1, 28, 28)), ("smallcnn-bn", mf.SmallCNNBN(), (1, 28, 28)), ("cifarcnn", mf.CifarCNN(), (3, 32, 32))
]:
    images, labels, source = training_images(shape)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    cursor = [0]

    def step():
        # As i2x's TrainingLoop.step: a batch converted from the dataset's bytes, forward in
        # training mode (BatchNorm batch statistics), loss, backward, SGD step.
        if cursor[0] + 64 > len(order):
            cursor[0] = 0
        index = order[cursor[0]:cursor[0] + 64]
        cursor[0] += 64
        x = images[index].float().div_(255)
        opt.zero_grad()
        F.cross_entropy(model.head(model.features(x)), labels[index]).backward()
        opt.step()

    # As i2x-bench train: 50 warm-up steps, then 5 windows of 20 (10, then 5 of 5 for cifarcnn).
    s = timed(step, 5, warmup=10) if name == "cifarcnn" else timed(step, 20, warmup=50)
    print(json.dumps({"figure": "train", "impl": "pytorch", "torch": torch.__version__, "arch": name, "batch": 64,
                      "threads": torch.get_num_threads(), "images_per_second": 64 / s, "data": source}), flush=True)

if os.environ.get("ONLY") == "train":
    raise SystemExit(0)
model = SmallCNN().eval()
for batch in (64, 1):
    x = torch.rand((batch, 1, 28, 28))

    def cam():
        a = model.features(x)
        a.retain_grad()
        logits = model.head(a)
        logits.gather(1, logits.argmax(1, keepdim=True)).sum().backward()
        m = F.relu((a.grad.mean(dim=(2, 3), keepdim=True) * a).sum(1))
        up = F.interpolate(m[:, None], size=(28, 28), mode="bilinear", align_corners=False)
        model.zero_grad()
        return up

    s = timed(cam, max(1, 640 // batch))
    print(json.dumps({"figure": "gradcam", "impl": "pytorch-batched", "torch": torch.__version__, "arch": "smallcnn",
                      "batch": batch, "threads": torch.get_num_threads(), "images_per_second": batch / s}))
