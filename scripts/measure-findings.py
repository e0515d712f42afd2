#!/usr/bin/env python3
"""Measures the findings on planted-cue, clean and shuffled-label Fashion-MNIST runs.

For each seed it trains three twins with the release binaries, publishing live to one daemon
(smallcnn-bn, 1 epoch, a checkpoint every 100 steps, 1,000 probe images):
  cue-S      the cue data of make-cue-data.py (a 4x4 white square at rows 1-4, columns 23-26 on
             every Shirt of the training source; the test set clean),
  border-S   make-cue-data.py --kind border (a 2-pixel frame of 255 around every Shirt),
  texture-S  make-cue-data.py --kind texture (a 2x2 checkerboard of amplitude 96 on the
             background pixels of every Shirt),
  clean-S    the unmodified dataset,
  shuffled-S the cue data trained on shuffled labels (probe labels stay true),
and any twin named with --variant NAME="make-cue-data.py options" (e.g. a held-out cue:
--variant coat3="--kind mark --class 4 --row 22 --col 2 --size 3").
After the daemon is idle it reads `i2x findings RUN --checkpoint STEP --json` at every analysed
step and prints one JSON line per run, then one per twin and kind: how many runs had such a
finding (at the last checkpoint, and at any checkpoint), with a 95% Wilson interval.

For a planted twin it also says when a cue finding of the planted class first appeared, how many
checkpoints after its prototype first appeared (`--history`), whether it stayed named from
then on, and whether it is named at the last checkpoint (what `i2x findings RUN` shows at the
end). The trainer publishes the initial weights too (step 0), so a run has 9 checkpoints.

Usage: scripts/measure-findings.py OUT_DIR [--seeds 1-5] [--bin .build/release]
                                           [--endpoint tcp://127.0.0.1:7302]
                                           [--twins cue,border,texture,clean,shuffled]
                                           [--variant NAME="OPTIONS"]...
Needs `swift build -c release` first; about 30 s per run on 2 cores.
"""
import argparse, json, math, os, subprocess, sys, time

from openblas_env import openblas_env

HERE = os.path.dirname(os.path.abspath(__file__))
CUE_KINDS = ["fixed-position-cue", "border-cue", "background-cue"]
KINDS = CUE_KINDS + ["cue-candidate-untested", "learned-early", "separated-by", "evidence-swings"]
# make-cue-data.py options of the planted twins (shuffled trains on the mark's data).
PLANTED = {"cue": "--kind mark", "border": "--kind border", "texture": "--kind texture"}


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
    p.add_argument("--variant", action="append", default=[], help='NAME="make-cue-data.py options"')
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = openblas_env()
    b = lambda name: os.path.join(a.bin, name)
    planted = dict(PLANTED)
    for v in a.variant:
        name, options = v.split("=", 1)
        planted[name] = options

    def data(twin):
        """The data directory of a twin (None: the unmodified dataset) and its planted class."""
        if twin == "clean":
            return None, None
        options = planted["cue" if twin == "shuffled" else twin].split()
        path = os.path.join(a.out, "data-" + ("cue" if twin == "shuffled" else twin))
        if not os.path.exists(os.path.join(path, "classes.txt")):
            subprocess.run([sys.executable, os.path.join(HERE, "make-cue-data.py"), path, *options], check=True,
                           stdout=sys.stderr)
        cls = int(options[options.index("--class") + 1]) if "--class" in options else 6
        return path, (None if twin == "shuffled" else cls)

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
                path, planted_class = data(twin)
                if path:
                    args += ["--data-dir", path]
                if twin == "shuffled":
                    args += ["--shuffle-labels"]
                if not (i2x("checkpoints", run) or {}).get("checkpoints"):
                    subprocess.run([b("i2x-train"), *args], check=True, env=env, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(a.out, f"{run}.log"), "w"))
                idle()
                progress = i2x("progress", run) or {}
                steps = progress.get("steps", [])
                per_step = {}
                for step in steps:
                    f = i2x("findings", run, "--checkpoint", str(step)) or {}
                    per_step[step] = f.get("findings", [])
                final = per_step.get(steps[-1], []) if steps else []
                row = {"run": run, "twin": twin, "seed": seed, "checkpoints": len(steps),
                       "final": {k: sum(1 for f in final if f["kind"] == k) for k in KINDS},
                       "any": {k: any(f["kind"] == k for s in steps for f in per_step[s]) for k in KINDS}}
                cues = [(s, f) for s in steps for f in per_step[s] if f["kind"] in CUE_KINDS
                        and (planted_class is None or planted_class in f["classes"])]
                if cues:
                    s, f = cues[0]
                    row["cue"] = {"first_step": s, "kind": f["kind"], "class": f["class_names"],
                                  "prototype": f["prototype"], "statement": f["statement"],
                                  "numbers": {k: round(v, 4) for k, v in f["numbers"].items()}}
                    history = (i2x("prototypes", run, "--id", str(f["prototype"]), "--history") or {}).get("history", [])
                    if history:
                        appeared = history[-1]["step"]
                        row["cue"]["prototype_first_step"] = appeared
                        row["cue"]["checkpoints_after_appearance"] = steps.index(s) - steps.index(appeared) \
                            if appeared in steps else None
                if planted_class is not None:
                    named = [s for s in steps if any(f["kind"] in CUE_KINDS and planted_class in f["classes"]
                                                     for f in per_step[s])]
                    row["planted_class"] = planted_class
                    row["named_at"] = named
                    row["named_from_first_to_last"] = bool(named) and named == steps[steps.index(named[0]):]
                    row["named_at_last"] = bool(named) and named[-1] == steps[-1]
                # The learned-early rule's inputs: each class's mean probe accuracy over the first
                # half of the checkpoints, the best class and its lead over the next.
                early = [sum(c["accuracy"][:(len(steps) + 1) // 2]) / max(1, (len(steps) + 1) // 2)
                         for c in progress.get("classes", [])]
                if len(early) >= 2:
                    order = sorted(range(len(early)), key=lambda c: -early[c])
                    row["early"] = {"best_class": order[0], "best": round(early[order[0]], 4),
                                    "lead": round(early[order[0]] - early[order[1]], 4)}
                row["final_statements"] = [f["kind"] + ": " + f["statement"] for f in final]
                print(json.dumps(row), flush=True)
                results.append(row)
        for twin in a.twins.split(","):
            rows = [r for r in results if r["twin"] == twin]
            if rows and "planted_class" in rows[0]:
                named = sum(1 for r in rows if r["named_at"])
                kept = sum(1 for r in rows if r["named_from_first_to_last"])
                last = sum(1 for r in rows if r.get("named_at_last"))
                # The judging rule: named by the third checkpoint after its prototype first
                # appeared (`--history` of the first cue finding's prototype).
                timely = sum(1 for r in rows if r["named_at"] and "cue" in r and
                             (r["cue"].get("checkpoints_after_appearance") is not None) and
                             r["cue"]["checkpoints_after_appearance"] <= 3)
                print(json.dumps({"figure": "planted_cue_named", "twin": twin, "runs": len(rows),
                                  "runs_named": named, "wilson95_named": wilson(named, len(rows)),
                                  "runs_named_within_3_checkpoints_of_appearance": timely,
                                  "wilson95_timely": wilson(timely, len(rows)),
                                  "runs_named_through_last_checkpoint": kept, "wilson95_kept": wilson(kept, len(rows)),
                                  "runs_named_at_last_checkpoint": last, "wilson95_last": wilson(last, len(rows))}),
                      flush=True)
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
