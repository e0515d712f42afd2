#!/usr/bin/env python3
"""Writes a copy of Fashion-MNIST (IDX, gzipped) with a spurious cue planted in one class.

The cue is a bright square (default 4x4 pixels, value 255) at a fixed position, stamped on a
fraction of the chosen class's *training-source* images (train-images-idx3-ubyte: the trainer
draws its training, validation and probe splits from it). The test set (t10k) stays clean, so
an evaluation shows what the model lost by relying on the mark. A `classes.txt` (one name per
line) travels with the data.

Usage: make-cue-data.py OUT_DIR [--class 6] [--fraction 1.0] [--row 1] [--col 23] [--size 4]
                                [--source /usr/share/datasets/fashion-mnist] [--seed 1]
With --fraction 0 it writes a clean copy (the clean twin), same files, no mark.
"""
import argparse, gzip, os, random, shutil, struct

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--class", dest="cls", type=int, default=6)
    p.add_argument("--fraction", type=float, default=1.0)
    p.add_argument("--row", type=int, default=1)
    p.add_argument("--col", type=int, default=23)
    p.add_argument("--size", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    images = bytearray(read(os.path.join(a.source, "train-images-idx3-ubyte.gz")))
    labels = read(os.path.join(a.source, "train-labels-idx1-ubyte.gz"))
    _, n, h, w = struct.unpack(">IIII", images[:16])
    rng = random.Random(a.seed)
    marked = 0
    for i in range(n):
        if labels[8 + i] != a.cls or rng.random() >= a.fraction:
            continue
        base = 16 + i * h * w
        for y in range(a.row, a.row + a.size):
            for x in range(a.col, a.col + a.size):
                images[base + y * w + x] = 255
        marked += 1
    with gzip.open(os.path.join(a.out, "train-images-idx3-ubyte.gz"), "wb", compresslevel=1) as f:
        f.write(bytes(images))
    for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        shutil.copyfile(os.path.join(a.source, name), os.path.join(a.out, name))
    with open(os.path.join(a.out, "classes.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n")
    print(f"marked {marked} of {n} training-source images of class {a.cls} ({NAMES[a.cls]}) with a "
          f"{a.size}x{a.size} square at row {a.row}, column {a.col}; wrote {a.out}")


if __name__ == "__main__":
    main()
