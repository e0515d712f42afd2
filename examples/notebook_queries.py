"""The daemon's queries from Python, as a notebook would run them (each answer is a plain dict).

    python examples/notebook_queries.py [--endpoint tcp://127.0.0.1:7070] [--run torch-fmnist]

Run it after examples/pytorch_attach.py (or any run). Errors are `i2x.I2XError` with the
daemon's code: `unknown-run`, `not-ready` (no analysis yet), `analysis-failed`, …
"""

import argparse
import os

import i2x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default=os.environ.get("I2X_ENDPOINT", "tcp://127.0.0.1:7070"))
    parser.add_argument("--run", default="torch-fmnist")
    args = parser.parse_args()
    client = i2x.Client(args.endpoint)

    status = client.status()
    print(f"{status['version']}: {status['runs']} runs, queue depth {status['queue_depth']}")
    for run in client.runs():
        print(f"  {run['name']}: {run['architecture']}, {run['checkpoints']} checkpoints, {run['probe_count']} probes")

    rows = client.checkpoints(args.run)
    print(f"{args.run}: steps {[r['step'] for r in rows]}, analyses {sorted({r['job'] for r in rows})}")
    try:
        pairs = client.pairs(args.run)
        progress = client.progress(args.run)
        prototypes = client.prototypes(args.run)
        uncertain = client.uncertain(args.run)
    except i2x.I2XError as error:
        print(f"no analysis to show: {error.code}: {error.message}")
        return
    names = pairs["class_names"]
    order = [f"{names[a]}/{names[b]}" for a, b in pairs.get("learning_order", [])[:5]]
    print("first pairs separated:", ", ".join(order))
    print("per-class entries in progress:", len(progress.get("classes", [])))
    print("vocabulary keys:", sorted(prototypes.get("vocabulary", {}))[:8])
    for flag in uncertain["uncertain"]:
        print(f"uncertain prototype {flag['prototype']}: {names[flag['pair'][0]]} / {names[flag['pair'][1]]}, "
              f"flips {flag['flips']}, score {flag['score']:.3f}")
    print("directives:", client.directives(args.run)["directives"])


if __name__ == "__main__":
    main()
