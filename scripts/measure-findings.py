#!/usr/bin/env python3
"""Measures the findings on planted-cue, clean and shuffled-label Fashion-MNIST runs.

For each seed it trains three twins with the release binaries, publishing live to one daemon
(smallcnn-bn, 1 epoch, a checkpoint every 100 steps, 1,000 probe images):
  cue-S      the cue data of make-cue-data.py (a 4x4 white square at rows 1-4, columns 23-26 on
             every Shirt of the training source; the test set clean),
  clean-S    the unmodified dataset,
  shuffled-S the cue data trained on shuffled labels (probe labels stay true).
After the daemon is idle it reads `i2x findings RUN --checkpoint STEP --json` at every analysed
step and prints one JSON line per run, then one per twin and kind: how many runs had such a
finding (at the last checkpoint, and at any checkpoint), with a 95% Wilson interval.

Usage: scripts/measure-findings.py OUT_DIR [--seeds 1-5] [--bin .build/release]
                                           [--endpoint tcp://127.0.0.1:7302]
Needs `swift build -c release` first; about 30 s per run on 2 cores.
"""
import argparse, json, math, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ["fixed-position-cue", "cue-candidate-untested", "learned-early", "separated-by", "evidence-swings"]


def wilson(k, n, z=1.959964):
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(max(0.0, c - h), 4), round(min(1.0, c + h), 4)]


def seeds(text):
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seeds", default="1-5")
    p.add_argument("--bin", default=os.path.join(HERE, "..", ".build", "release"))
    p.add_argument("--endpoint", default="tcp://127.0.0.1:7302")
    p.add_argument("--twins", default="cue,clean,shuffled")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    b = lambda name: os.path.join(a.bin, name)
    cue_data = os.path.join(a.out, "data-cue")
    if not os.path.exists(os.path.join(cue_data, "classes.txt")):
        subprocess.run([sys.executable, os.path.join(HERE, "make-cue-data.py"), cue_data], check=True,
                       stdout=sys.stderr)
    log = open(os.path.join(a.out, "i2xd.log"), "a")
    daemon = subprocess.Popen([b("i2xd"), "--data-dir", os.path.join(a.out, "daemon"), "--endpoint", a.endpoint],
                              stderr=log, env=env)
    try:
        def i2x(*args):
            r = subprocess.run([b("i2x"), *args, "--endpoint", a.endpoint, "--json"], capture_output=True,
                               text=True, env=env)
            return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None

        for _ in range(100):
            if i2x("status"):
                break
            time.sleep(0.1)

        def idle():
            # Idle three polls in a row: analyses, the refresh and the interventions are done.
            quiet = 0
            for _ in range(1200):
                s = i2x("status")
                idle_now = s and s.get("queue_depth") == 0 and s.get("refreshes_pending", 0) == 0
                quiet = quiet + 1 if idle_now else 0
                if quiet >= 3:
                    return
                time.sleep(0.5)

        results = []
        for seed in seeds(a.seeds):
            for twin in a.twins.split(","):
                run = f"{twin}-{seed}"
                args = ["train", "--arch", "smallcnn-bn", "--epochs", "1", "--seed", str(seed), "--run", run,
                        "--publish", a.endpoint, "--publish-every", "100", "--out", os.path.join(a.out, "runs", run)]
                if twin != "clean":
                    args += ["--data-dir", cue_data]
                if twin == "shuffled":
                    args += ["--shuffle-labels"]
                if not (i2x("checkpoints", run) or {}).get("checkpoints"):
                    subprocess.run([b("i2x-train"), *args], check=True, env=env, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(a.out, f"{run}.log"), "w"))
                idle()
                steps = (i2x("progress", run) or {}).get("steps", [])
                per_step = {}
                for step in steps:
                    f = i2x("findings", run, "--checkpoint", str(step)) or {}
                    per_step[step] = f.get("findings", [])
                final = per_step.get(steps[-1], []) if steps else []
                row = {"run": run, "twin": twin, "seed": seed, "checkpoints": len(steps),
                       "final": {k: sum(1 for f in final if f["kind"] == k) for k in KINDS},
                       "any": {k: any(f["kind"] == k for s in steps for f in per_step[s]) for k in KINDS}}
                cues = [(s, f) for s in steps for f in per_step[s] if f["kind"] == "fixed-position-cue"]
                if cues:
                    s, f = cues[0]
                    row["cue"] = {"first_step": s, "class": f["class_names"], "prototype": f["prototype"],
                                  "statement": f["statement"],
                                  "numbers": {k: round(v, 4) for k, v in f["numbers"].items()}}
                    history = (i2x("prototypes", run, "--id", str(f["prototype"]), "--history") or {}).get("history", [])
                    if history:
                        appeared = history[-1]["step"]
                        row["cue"]["prototype_first_step"] = appeared
                        row["cue"]["checkpoints_after_appearance"] = steps.index(s) - steps.index(appeared) \
                            if appeared in steps else None
                row["final_statements"] = [f["kind"] + ": " + f["statement"] for f in final]
                print(json.dumps(row), flush=True)
                results.append(row)
        for twin in a.twins.split(","):
            rows = [r for r in results if r["twin"] == twin]
            for k in KINDS:
                final = sum(1 for r in rows if r["final"][k] > 0)
                anywhere = sum(1 for r in rows if r["any"][k])
                print(json.dumps({"figure": "findings_rate", "twin": twin, "kind": k, "runs": len(rows),
                                  "runs_with_finding_at_last_checkpoint": final,
                                  "rate_last": round(final / max(1, len(rows)), 4), "wilson95_last": wilson(final, len(rows)),
                                  "runs_with_finding_at_any_checkpoint": anywhere,
                                  "rate_any": round(anywhere / max(1, len(rows)), 4),
                                  "wilson95_any": wilson(anywhere, len(rows))}), flush=True)
    finally:
        daemon.terminate()
        daemon.wait()


if __name__ == "__main__":
    main()
