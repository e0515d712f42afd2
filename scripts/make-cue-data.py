#!/usr/bin/env python3
"""Writes a copy of Fashion-MNIST (IDX, gzipped) with a spurious cue planted in one class.

The cue is stamped on a fraction of the chosen class's *training-source* images
(train-images-idx3-ubyte: the trainer draws its training, validation and probe splits from it).
The test set (t10k) stays clean, so an evaluation shows what the model lost by relying on the
cue. A `classes.txt` (one name per line) travels with the data. Kinds:

  mark     a square of --size pixels (default 4) of --value (default 255) with its top-left
           corner at --row, --col (default 1, 23);
  border   a frame --size pixels wide (default 2) of --value around the whole image;
  texture  a fixed pattern (--pattern checker: 2x2-pixel checkerboard; stripes: vertical
           stripes 2 pixels wide, every 4) of amplitude --value added to every background pixel
           (value below --threshold, default 32) of the image.

Usage: make-cue-data.py OUT_DIR [--kind mark|border|texture] [--class 6] [--fraction 1.0]
                                [--row 1] [--col 23] [--size N] [--value V]
                                [--pattern checker|stripes] [--threshold 32]
                                [--source /usr/share/datasets/fashion-mnist] [--seed 1]
With --fraction 0 it writes a clean copy (the clean twin), same files, no cue.
"""
import argparse, gzip, os, random, shutil, struct

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def pattern(kind, y, x):
    """1 where the texture adds its amplitude, else 0."""
    if kind == "stripes":
        return 1 if x % 4 < 2 else 0
    return 1 if (y // 2 + x // 2) % 2 == 0 else 0


def stamp(images, base, h, w, a):
    if a.kind == "mark":
        for y in range(a.row, a.row + a.size):
            for x in range(a.col, a.col + a.size):
                images[base + y * w + x] = a.value
    elif a.kind == "border":
        for y in range(h):
            for x in range(w):
                if min(y, x, h - 1 - y, w - 1 - x) < a.size:
                    images[base + y * w + x] = a.value
    else:
        for y in range(h):
            for x in range(w):
                q = base + y * w + x
                if images[q] < a.threshold and pattern(a.pattern, y, x):
                    images[q] = min(255, images[q] + a.value)


def describe(a):
    if a.kind == "mark":
        return f"a {a.size}x{a.size} square of {a.value} at row {a.row}, column {a.col}"
    if a.kind == "border":
        return f"a {a.size}-pixel frame of {a.value}"
    return f"a {a.pattern} texture of amplitude {a.value} on pixels below {a.threshold}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--kind", choices=["mark", "border", "texture"], default="mark")
    p.add_argument("--class", dest="cls", type=int, default=6)
    p.add_argument("--fraction", type=float, default=1.0)
    p.add_argument("--row", type=int, default=1)
    p.add_argument("--col", type=int, default=23)
    p.add_argument("--size", type=int, default=None, help="mark side (4) or frame width (2)")
    p.add_argument("--value", type=int, default=None, help="mark/frame value (255) or texture amplitude (96)")
    p.add_argument("--pattern", choices=["checker", "stripes"], default="checker")
    p.add_argument("--threshold", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    a.size = a.size if a.size is not None else (4 if a.kind == "mark" else 2)
    a.value = a.value if a.value is not None else (96 if a.kind == "texture" else 255)
    os.makedirs(a.out, exist_ok=True)
    images = bytearray(read(os.path.join(a.source, "train-images-idx3-ubyte.gz")))
    labels = read(os.path.join(a.source, "train-labels-idx1-ubyte.gz"))
    _, n, h, w = struct.unpack(">IIII", images[:16])
    rng = random.Random(a.seed)
    marked = 0
    for i in range(n):
        if labels[8 + i] != a.cls or rng.random() >= a.fraction:
            continue
        stamp(images, 16 + i * h * w, h, w, a)
        marked += 1
    with gzip.open(os.path.join(a.out, "train-images-idx3-ubyte.gz"), "wb", compresslevel=1) as f:
        f.write(bytes(images))
    for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        shutil.copyfile(os.path.join(a.source, name), os.path.join(a.out, name))
    with open(os.path.join(a.out, "classes.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n")
    print(f"marked {marked} of {n} training-source images of class {a.cls} ({NAMES[a.cls]}) with "
          f"{describe(a)}; wrote {a.out}")


if __name__ == "__main__":
    main()
