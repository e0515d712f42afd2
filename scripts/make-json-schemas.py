"""Writes docs/schemas/*.json: the JSON Schema (draft 2020-12) of every i2x reply and --json output.

The schema files are generated from this script so that every object whose keys are field names gets
the same rules (required keys, types, no unknown keys, snake_case names). Change a schema here, run
`python3 scripts/make-json-schemas.py`, commit both; python/tests/test_json_schemas.py validates real
replies against the files.
"""
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "schemas")
C = "urn:i2x:schemas:common"
def ref(name): return {"$ref": f"{C}#/$defs/{name}"}
FIELDS = {"$ref": f"{C}#/$defs/field_name"}
I, N, S, B = {"type": "integer"}, {"type": "number"}, {"type": "string"}, {"type": "boolean"}
def arr(x): return {"type": "array", "items": x}
INTS, NUMS, STRS = arr(I), arr(N), arr(S)
def opt(x): return {"anyOf": [x, {"type": "null"}]}
def obj(required, props, extra=None, closed=False, desc=None):
    o = {"type": "object", "required": sorted(required), "propertyNames": FIELDS, "properties": props}
    if closed: o["additionalProperties"] = False
    if desc: o = {"description": desc, **o}
    if extra: o.update(extra)
    return o

defs = {}
defs["field_name"] = {"description": "A field key: snake_case (lowercase letters, digits, underscores).",
                      "type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
defs["schema_version"] = {"description": "Version of the JSON interface (2: snake_case keys throughout).", "const": 2}
defs["data_map"] = {"description": "A map keyed by data (metric, stage or state names): keys are kept as sent.",
                    "type": "object", "additionalProperties": N}
defs["binomial"] = obj(["successes", "trials", "rate", "lower", "upper"],
                       {"successes": I, "trials": I, "rate": N, "lower": N, "upper": N}, closed=True,
                       desc="A proportion with its 95% Wilson interval.")
defs["example"] = obj(["probe", "label", "intensity", "cells"], {"probe": I, "label": I, "intensity": N, "cells": INTS},
                      closed=True)
split = obj(["class", "present_probes", "present_correct", "absent_probes", "absent_correct"],
            {"class": I, "present_probes": I, "present_correct": I, "absent_probes": I, "absent_correct": I}, closed=True)
traits_props = {"present_probes": I, "footprint": NUMS, "fixed_position": N, "hot_cells": INTS, "pixel_box": INTS,
                "mean_cells": N, "size_fraction": N, "content_variability": N, "content_standard_deviation": N,
                "presence_split": arr(split), "edge_share": N, "frame_lifted": N, "dark_share": N, "dark_lift": N,
                "mark_pixels": I}
defs["traits"] = obj(["present_probes", "footprint", "fixed_position", "hot_cells", "mean_cells", "size_fraction",
                      "presence_split"], traits_props, closed=True)
defs["vocabulary_summary"] = obj(["fitted_on_step", "size", "pca_components", "explained_variance"],
    {"fitted_on_step": I, "size": I, "pca_components": I, "explained_variance": N, "adjusted_rand_index": N,
     "map_shape": INTS}, closed=True)
defs["prototype"] = obj(["id", "cells", "presence", "shared_by", "specialised_for", "examples"],
    {"id": I, "cells": I, "presence": NUMS, "shared_by": INTS, "specialised_for": INTS, "examples": arr(ref("example")),
     "traits": ref("traits")}, closed=True)
defs["class_progress"] = obj(["label", "name", "profile", "drift", "concentration", "accuracy", "confidence", "shared",
                              "specialised"],
    {"label": I, "name": S, "profile": NUMS, "drift": NUMS, "concentration": NUMS, "accuracy": NUMS, "confidence": NUMS,
     "shared": INTS, "specialised": INTS}, closed=True)
defs["pair_evidence"] = obj(["discriminative_for_a", "discriminative_for_b", "contested"],
    {"discriminative_for_a": INTS, "discriminative_for_b": INTS, "contested": INTS}, closed=True)
defs["pair"] = obj(["a", "b", "confusions", "margin", "attention_overlap", "discriminative_for_a", "discriminative_for_b",
                    "contested"],
    {"a": I, "b": I, "confusions": INTS, "margin": NUMS, "separation_step": I, "attention_overlap": N,
     "discriminative_for_a": INTS, "discriminative_for_b": INTS, "contested": INTS, "accumulated": ref("pair_evidence")},
    closed=True)
defs["interval"] = obj(["from_step", "to_step", "groups", "group_sizes", "noise", "lambda", "cross_validated_r2",
                        "evidence"],
    {"from_step": I, "to_step": I, "groups": I, "group_sizes": INTS, "noise": I, "lambda": N, "cross_validated_r2": N,
     "null95": N, "evidence": NUMS, "prototype_ids": INTS, "grouped_probes": I}, closed=True)
defs["faithfulness"] = obj(["step", "deletion", "insertion", "random_deletion", "random_insertion"],
    {"step": I, "deletion": N, "insertion": N, "random_deletion": N, "random_insertion": N}, closed=True)
defs["uncertain_flag"] = obj(["prototype", "pair", "flips", "score", "signs", "steps", "examples"],
    {"prototype": I, "pair": INTS, "flips": I, "score": N, "signs": INTS, "steps": INTS, "examples": arr(ref("example"))},
    closed=True)
defs["evidence_totals"] = obj(["classes", "intervals", "weight", "ids", "sums"],
    {"classes": I, "intervals": I, "weight": N, "ids": INTS, "sums": NUMS}, closed=True)
defs["failed_checkpoint"] = obj(["step", "error"], {"step": I, "error": S}, closed=True)
defs["intervention_outcome"] = obj(["prototype", "class", "step", "mean_cells", "mask", "paste"], {
    "prototype": I, "class": I, "step": I, "mean_cells": N,
    "mask": obj(["before", "masked", "control", "confidence_before", "confidence_masked", "confidence_control"],
                {"before": ref("binomial"), "masked": ref("binomial"), "control": ref("binomial"),
                 "confidence_before": N, "confidence_masked": N, "confidence_control": N}, closed=True),
    "paste": obj(["pasted", "control", "sources"], {"pasted": ref("binomial"), "control": ref("binomial"), "sources": I},
                 closed=True),
    "region": {"type": "string", "enum": ["small", "large"]}, "companions": INTS,
    "cue_shape": {"type": "string", "enum": ["mark", "border", "background"]}}, closed=True)
defs["intervention"] = obj(["id", "step", "prototype", "origin", "state"],
    {"id": I, "step": I, "prototype": I, "class": I, "origin": S, "state": S, "error": S,
     "outcome": ref("intervention_outcome")}, closed=True, desc="An intervention request with its outcome when done.")
defs["directive_row"] = obj(["id", "key", "kind", "pair", "prototypes", "source", "step", "state", "metrics",
                             "created_at", "updated_at"],
    {"id": I, "key": S, "kind": S, "pair": INTS, "prototypes": INTS, "source": S, "step": I, "state": S,
     "metrics": ref("data_map"), "created_at": N, "updated_at": N, "reason": S, "delivered_at": N,
     "outcome": {"type": "object", "propertyNames": FIELDS}}, closed=True)
defs["finding"] = obj(["kind", "severity", "classes", "class_names", "statement", "numbers", "command"],
    {"kind": S, "severity": S, "classes": INTS, "class_names": STRS, "prototype": I, "statement": S,
     "numbers": {"type": "object", "propertyNames": FIELDS, "additionalProperties": N}, "command": S,
     "standing": {"type": "string", "enum": ["confirmed", "kept", "withdrawn"]}}, closed=True)
defs["event"] = obj(["id", "kind", "at", "detail"],
    {"id": I, "kind": S, "at": N, "step": I,
     "detail": {"type": "object", "description": "Kind-specific; its metrics map (checkpoint events) is data.",
                "propertyNames": FIELDS}}, closed=True)
ROW_ARGS = (["id", "kind", "class", "step", "source", "state", "warnings", "images", "created_at",
                               "updated_at"],
    {"id": I, "job": opt(I), "kind": S, "class": I, "class_name": S, "step": I, "source": S, "state": S,
     "warnings": STRS, "images": STRS, "created_at": N, "updated_at": N, "error": S, "target": I, "target_name": S,
     "probe": I, "explanation": {"description": "The stored document, by its schema tag.",
                                 "anyOf": [ref("class_explanation"), ref("concepts_document"),
                                           ref("counterfactual_document"),
                                           ref("data_free_prototypes_document")]}},)
defs["explanation_row"] = obj(*ROW_ARGS, closed=True)
defs["proportion"] = obj(["hits", "trials", "rate", "low", "high"],
    {"hits": I, "trials": I, "rate": N, "low": N, "high": N}, closed=True,
    desc="A proportion with its 95% Wilson interval (explainer spelling).")
defs["class_explanation"] = obj(["schema", "class_index", "settings", "activation", "prior_activation", "sanity",
                                 "verdicts", "seconds"],
    {"schema": {"const": "i2x.explanation/1"}, "class_index": I, "class_name": S,
     "settings": obj(["count", "scale", "guided_fraction", "ddim_steps", "guided_steps", "seed"],
                     {"count": I, "scale": N, "guided_fraction": N, "ddim_steps": I, "guided_steps": I, "seed": I},
                     closed=True),
     "activation": ref("proportion"), "prior_activation": ref("proportion"), "oracle": ref("proportion"),
     "oracle_prior": ref("proportion"),
     "sanity": obj(["space", "distance_seeds", "stages", "threshold", "passed"],
                   {"space": S, "distance_seeds": N, "threshold": N, "passed": B,
                    "stages": arr(obj(["layers", "distance", "activation"],
                                      {"layers": STRS, "distance": N, "activation": ref("proportion")}, closed=True))},
                   closed=True),
     "verdicts": STRS, "seconds": N}, closed=True, desc="A class explanation (i2x.explanation/1).")
concept_run = obj(["concepts", "frequencies", "activation", "final_loss"],
    {"concepts": INTS, "frequencies": {"type": "object", "description": "Keyed by concept index (data).",
                                       "additionalProperties": N},
     "activation": ref("proportion"), "oracle": ref("proportion"), "final_loss": N}, closed=True)
defs["concepts_document"] = obj(["schema", "class_index", "with_pseudo_labels", "without_pseudo_labels", "seconds"],
    {"schema": {"const": "i2x.concepts/1"}, "class_index": I, "class_name": S, "with_pseudo_labels": arr(concept_run),
     "without_pseudo_labels": arr(concept_run), "seconds": N}, closed=True,
    desc="A concept search with and without DEXTER's pseudo-label loss (i2x.concepts/1).")
defs["counterfactual_outcome"] = obj(["from", "to", "valid", "l1", "l2", "latent_distance", "pgd_valid", "pgd_linf",
                                      "pgd_l2"],
    {"from": I, "to": I, "valid": B, "oracle_valid": B, "oracle_original": B, "lambda": N, "l1": N, "l2": N,
     "latent_distance": N, "pgd_valid": B, "pgd_oracle_valid": B, "pgd_linf": N, "pgd_l2": N}, closed=True)
defs["data_free_prototypes_document"] = obj(
    ["schema", "step", "vocabulary_step", "class_names", "profile_cosine", "profile_cosine_other_classes",
     "own_profile_best", "accuracy_data_vocabulary", "accuracy_synthetic_vocabulary", "chance", "probes",
     "samples_per_class", "prototype_ids", "synthetic_profiles", "scale", "seconds", "data_free"],
    {"schema": {"const": "i2x.data-free-prototypes/1"}, "step": I, "vocabulary_step": I, "class_names": STRS,
     "profile_cosine": arr(N), "profile_cosine_other_classes": arr(N), "own_profile_best": ref("proportion"),
     "accuracy_data_vocabulary": ref("proportion"), "accuracy_synthetic_vocabulary": ref("proportion"),
     "chance": N, "probes": I, "samples_per_class": I, "prototype_ids": INTS, "synthetic_profiles": arr(arr(N)),
     "scale": N, "seconds": N, "data_free": S}, closed=True)
defs["counterfactual_document"] = obj(["schema", "probe", "label", "outcome", "seconds"],
    {"schema": {"const": "i2x.counterfactual/1"}, "probe": I, "label": I, "outcome": ref("counterfactual_outcome"),
     "seconds": N, "target_name": S, "locality": {"type": "object", "propertyNames": FIELDS}}, closed=True,
    desc="A counterfactual of one probe image with its PGD baseline (i2x.counterfactual/1).")
defs["vocabulary_basis"] = obj(["dimension", "mean", "components", "centres", "centre_ids"],
    {"dimension": I, "mean": NUMS, "components": NUMS, "centres": NUMS, "centre_ids": INTS}, closed=True)
defs["directive"] = obj(["format", "id", "key", "run", "pair", "class_names", "prototypes", "vocabulary", "thresholds",
                         "schedule", "step", "source"],
    {"format": {"const": "i2x.directive/2"}, "id": I, "key": S, "run": S, "pair": INTS, "class_names": STRS,
     "prototypes": INTS, "vocabulary": ref("vocabulary_basis"),
     "thresholds": obj(["occupancy", "intensity", "maximum_fraction"],
                       {"occupancy": N, "intensity": N, "maximum_fraction": N}, closed=True),
     "schedule": S, "step": I, "source": S}, closed=True, desc="A fine-tune directive payload (i2x.directive/2).")

common = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": C,
          "title": "Shared definitions of the i2x JSON interface (schema_version 2)", "$defs": defs}

REPORT = {"steps": INTS, "class_names": STRS, "vocabulary": ref("vocabulary_summary"), "prototypes": arr(ref("prototype")),
          "classes": arr(ref("class_progress")), "pairs": arr(ref("pair")), "learning_order": arr(INTS),
          "intervals": arr(ref("interval")), "faithfulness": arr(ref("faithfulness")),
          "uncertain": arr(ref("uncertain_flag")), "zero_maps": INTS, "incremental": B,
          "evidence_totals": ref("evidence_totals"), "settled_evidence": ref("evidence_totals")}
ANALYSED = {"run": S, "step": I, "analysis_seconds": N, "failed_checkpoints": arr(ref("failed_checkpoint")),
            "timings": ref("data_map")}
SECTIONS = {
    "analysis": ["steps", "class_names", "vocabulary", "prototypes", "classes", "pairs", "learning_order", "intervals",
                 "faithfulness", "uncertain", "zero_maps"],
    "prototypes": ["vocabulary", "prototypes", "class_names", "steps"],
    "progress": ["classes", "intervals", "faithfulness", "zero_maps", "class_names", "steps"],
    "pairs": ["pairs", "learning_order", "class_names", "steps"],
    "uncertain": ["uncertain", "class_names", "steps"],
}
BASE = {"schema_version": ref("schema_version"), "query": S}

def reply(name, title, required, props, query=True, closed=True, const_query=None):
    base = dict(BASE) if query else {"schema_version": ref("schema_version")}
    if query:
        base["query"] = {"const": const_query or name}
    p = {**base, **props}
    s = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:i2x:schemas:{name}", "title": title,
         **obj(list(base) + required, p, closed=closed)}
    return s

files = {}
for q, keys in SECTIONS.items():
    props = {k: REPORT[k] for k in (list(REPORT) if q == "analysis" else keys)}
    props.update(ANALYSED)
    if q == "uncertain":
        props["finetune_policy"] = S
        props["finetunes"] = arr(ref("directive_row"))
    files[f"query-{q}"] = reply(q, f"Reply to the '{q}' query (i2x {q} RUN --json)", keys + ["run", "step",
        "analysis_seconds", "failed_checkpoints", "timings"] + (["finetune_policy", "finetunes"] if q == "uncertain" else []),
        props, const_query=q)
    files[f"query-{q}"]["$id"] = f"urn:i2x:schemas:query-{q}"

lag = obj(["run", "queued", "oldest_queued_seconds", "latest_step"],
          {"run": S, "queued": I, "oldest_queued_seconds": N, "latest_step": I, "analysed_step": I}, closed=True)
held = obj(["worker", "job", "kind", "run", "step"],
           {"worker": S, "job": I, "kind": S, "run": S, "step": I, "lease_seconds_left": N}, closed=True)
files["query-status"] = reply("status", "Reply to the 'status' query (i2x status --json)",
    ["version", "uptime_seconds", "runs", "queue_depth", "refreshes_pending", "jobs", "lag", "workers"],
    {"version": S, "uptime_seconds": N, "runs": I, "queue_depth": I, "refreshes_pending": I,
     "jobs": {"type": "object", "propertyNames": FIELDS, "additionalProperties": I}, "lag": arr(lag),
     "workers": arr(held)})
files["query-runs"] = reply("runs", "Reply to the 'runs' query (i2x runs --json)", ["runs"],
    {"runs": arr(obj(["name", "classes", "probe_count", "checkpoints", "architecture"],
                     {"name": S, "classes": STRS, "probe_count": I, "checkpoints": I, "architecture": S}, closed=True))})
files["query-checkpoints"] = reply("checkpoints", "Reply to the 'checkpoints' query (i2x checkpoints RUN --json)",
    ["run", "checkpoints"],
    {"run": S, "checkpoints": arr(obj(["step", "epoch", "sha256", "size", "metrics", "job"],
        {"step": I, "epoch": I, "sha256": S, "size": I, "metrics": ref("data_map"), "job": S, "parameter_count": I,
         "job_error": S}, closed=True))})
files["query-directives"] = reply("directives", "Reply to the 'directives' query (i2x directives RUN --json)",
    ["run", "policy", "directives"], {"run": S, "policy": S, "directives": arr(ref("directive_row"))})
files["query-directive-payload"] = reply("directive-payload", "Reply to the 'directive-payload' query; its 'directive' is what 'i2x directives RUN --export ID' prints",
    ["run", "directive"], {"run": S, "directive": ref("directive")})
files["directive"] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:i2x:schemas:directive",
    "title": "A fine-tune directive payload, i2x.directive/2 (i2x directives RUN --export ID --json; ack directives)",
    **ref("directive")}
files["query-events"] = reply("events", "Reply to the 'events' query", ["run", "events", "cursor", "more"],
    {"run": S, "events": arr(ref("event")), "cursor": I, "more": B})
files["watch-line"] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:i2x:schemas:watch-line",
    "title": "One line of i2x watch RUN --json: an event with its run",
    **obj(["schema_version", "run", "id", "kind", "at", "detail"],
          {"schema_version": ref("schema_version"), "run": S, "id": I, "kind": S, "at": N, "step": I,
           "detail": {"type": "object", "propertyNames": FIELDS}}, closed=True)}
files["query-findings"] = reply("findings", "Reply to the 'findings' query (i2x findings RUN --json)",
    ["run", "step", "steps", "class_names", "interventions_measured", "intervention_steps", "findings"],
    {"run": S, "step": I, "steps": INTS, "class_names": STRS, "interventions_measured": I, "intervention_steps": INTS,
     "findings": arr(ref("finding"))})
files["query-interventions"] = reply("interventions", "Reply to the 'interventions' query", ["run", "interventions"],
    {"run": S, "interventions": arr(ref("intervention"))})
files["query-lineage"] = reply("lineage", "Reply to the 'lineage' query (i2x prototypes RUN --id K --history --json)",
    ["run", "prototype", "history", "minimum_jaccard"],
    {"run": S, "prototype": I, "minimum_jaccard": N,
     "history": arr(obj(["step", "id"], {"step": I, "id": I, "previous_id": I, "jaccard": N}, closed=True))})
files["query-explanations"] = reply("explanations", "Reply to the 'explanations' query",
    ["run", "explain_policy", "data_free", "explanations"],
    {"run": S, "explain_policy": S, "data_free": S, "explanations": arr(ref("explanation_row")),
     "generator": obj(["dataset", "image", "latent", "split_sha256", "split_count", "seed"],
        {"dataset": S, "image": INTS, "latent": I, "split_sha256": S, "split_count": I, "seed": I}, closed=True)})
files["query-profiles"] = reply("profiles", "Reply to the 'profiles' query (class attention profiles over checkpoints)",
    ["run", "step", "prototype_ids", "steps", "profiles", "class_names"],
    {"run": S, "step": I, "prototype_ids": INTS, "steps": INTS, "profiles": arr(arr(NUMS)), "class_names": STRS})
files["query-verify"] = reply("verify", "Reply to the 'verify' query (i2x's logits under given weights)",
    ["run", "count", "classes", "logits"], {"run": S, "count": I, "classes": I, "logits": arr(NUMS)})
files["query-binary"] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:i2x:schemas:query-binary",
    "title": "JSON header of the binary replies 'probe', 'observation' and 'explanation-image' (the payload is a safetensors file or a PNG)",
    **obj(["schema_version", "query", "run"],
          {"schema_version": ref("schema_version"), "query": {"enum": ["probe", "observation", "explanation-image"]},
           "run": S, "step": I, "explanation": I, "image": S}, closed=True)}
cmd = lambda name: {"schema_version": ref("schema_version"), "command": {"const": name}, "run": S}
def command(name, title, required, props):
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:i2x:schemas:command-{name}",
            "title": title, **obj(["schema_version", "command", "run"] + required, {**cmd(name), **props}, closed=True)}
files["command-set-policy"] = command("set-policy", "Answer to the 'set-policy' command (i2x policy RUN --finetune P --json)",
    ["policy", "previous_policy"], {"policy": S, "previous_policy": S})
files["command-set-explain-policy"] = command("set-explain-policy", "Answer to the 'set-explain-policy' command",
    ["explain_policy", "previous_explain_policy"], {"explain_policy": S, "previous_explain_policy": S})
files["command-finetune"] = command("finetune", "Answer to the 'finetune' command (i2x finetune RUN --pair A,B --json)",
    ["directive"], {"directive": ref("directive_row")})
files["command-intervene"] = command("intervene", "Answer to the 'intervene' command", ["intervention", "step"],
    {"intervention": I, "step": I})
for kind in ["explain", "concepts", "counterfactual", "prototypes"]:
    files[f"command-{kind}"] = command(kind, f"Answer to the '{kind}' command (i2x {kind} RUN ... without --wait)",
        ["explanation", "created"], {"explanation": ref("explanation_row"), "created": B})
files["error"] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:i2x:schemas:error",
    "title": "An error reply's header (code: unknown-run, not-ready, analysis-failed, bad-data, conflict, ...)",
    **obj(["code", "message"], {"code": S, "message": S}, closed=True)}
def output(name, title, required, props):
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:i2x:schemas:{name}", "title": title,
            **obj(["schema_version"] + required, {"schema_version": ref("schema_version"), **props}, closed=True)}
files["client-policy"] = reply("directives", "i2x policy RUN --json: the run's fine-tune policy (the directives query without its list)",
    ["run", "policy"], {"run": S, "policy": S})
files["client-policy"]["$id"] = "urn:i2x:schemas:client-policy"
files["client-explanation"] = output("client-explanation",
    "i2x explain|concepts|counterfactual RUN ... --json and i2x prototypes RUN --data-free --json: the explanation row once done (or failed)",
    ROW_ARGS[0], ROW_ARGS[1])
files["train-explain"] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "i2x-train explain --json: a class explanation (i2x.explanation/1)", **ref("class_explanation")}
files["train-concepts"] = output("train-concepts", "i2x-train concepts --json (i2x.concepts/1)",
    ["schema", "class_index", "with_pseudo_labels", "without_pseudo_labels", "seconds", "data_free"],
    {"schema": {"const": "i2x.concepts/1"}, "class_index": I, "class_name": S, "with_pseudo_labels": arr(concept_run),
     "without_pseudo_labels": arr(concept_run), "seconds": N, "data_free": S})
summary = obj(["count", "validity", "mean_l1", "mean_l2", "mean_latent_distance", "pgd_validity", "pgd_mean_linf",
               "pgd_mean_l2"],
    {"count": I, "validity": ref("proportion"), "oracle_validity": ref("proportion"),
     "oracle_on_originals": ref("proportion"), "mean_l1": N, "mean_l2": N, "mean_latent_distance": N,
     "pgd_validity": ref("proportion"), "pgd_oracle_validity": ref("proportion"), "pgd_mean_linf": N,
     "pgd_mean_l2": N}, closed=True)
files["train-counterfactuals"] = output("train-counterfactuals", "i2x-train counterfactual --json (i2x.counterfactuals/1)",
    ["schema", "from", "to", "probes", "seconds", "seconds_per_counterfactual", "summary", "outcomes"],
    {"schema": {"const": "i2x.counterfactuals/1"}, "from": I, "to": I, "probes": INTS, "seconds": N,
     "seconds_per_counterfactual": N, "summary": summary, "outcomes": arr(ref("counterfactual_outcome"))})
files["train-prototypes"] = output("train-prototypes", "i2x-train prototypes --json (i2x.synthetic-prototypes/1)",
    ["schema", "probes", "samples", "chance", "profile_cosine", "profile_cosine_other_classes",
     "accuracy_data_vocabulary", "accuracy_synthetic_vocabulary", "seconds"],
    {"schema": {"const": "i2x.synthetic-prototypes/1"}, "probes": I, "samples": I, "chance": N,
     "profile_cosine": NUMS, "profile_cosine_other_classes": NUMS, "accuracy_data_vocabulary": N,
     "accuracy_synthetic_vocabulary": N, "seconds": N})
stat = obj(["mean", "std", "values"], {"mean": N, "std": N, "values": NUMS}, closed=True)
paired = obj(["mean_difference", "ci_lower", "ci_upper", "differences"],
             {"mean_difference": N, "ci_lower": N, "ci_upper": N, "differences": NUMS}, closed=True)
arm_name = {"enum": ["i2x", "c1_equal_compute", "c2_random_removal", "c3_highest_loss"]}
files["train-experiment"] = output("train-experiment",
    "i2x-train experiment finetune --json (also OUT/experiment.json)",
    ["experiment", "dataset", "architecture", "start_checkpoint", "directive", "splits", "training_images",
     "pair_training_images", "test_images", "removed", "steps", "batch_size", "learning_rate", "momentum", "optimizer",
     "optimizer_state", "seeds", "bootstrap", "arms", "results"],
    {"experiment": S, "dataset": S, "architecture": S, "start_checkpoint": S, "start_step": I,
     "directive": obj(["id", "run", "source", "pair", "class_names", "prototypes", "step"],
                      {"id": I, "run": S, "source": S, "pair": INTS, "class_names": STRS, "prototypes": INTS, "step": I},
                      closed=True),
     "splits": S, "training_images": I, "pair_training_images": I, "test_images": I, "removed": I, "steps": I,
     "batch_size": I, "learning_rate": N, "momentum": N, "optimizer": S, "optimizer_state": S, "seeds": I,
     "bootstrap": obj(["resamples", "confidence", "seed", "method"],
                      {"resamples": I, "confidence": N, "seed": I, "method": S}, closed=True),
     "arms": arr(obj(["arm", "removed", "accuracy", "pair_confusions", "pair_nll"],
                     {"arm": arm_name, "removed": I, "accuracy": stat, "pair_confusions": stat, "pair_nll": stat,
                      "vs_c1": obj(["accuracy", "pair_confusions", "pair_nll"],
                                   {"accuracy": paired, "pair_confusions": paired, "pair_nll": paired}, closed=True)},
                     closed=True)),
     "results": arr(obj(["arm", "seed", "data_order_seed", "steps", "removed", "accuracy", "pair_confusions", "pair_nll",
                         "last_loss", "seconds"],
                        {"arm": arm_name, "seed": I, "data_order_seed": I, "steps": I, "removed": I, "accuracy": N,
                         "pair_confusions": I, "pair_nll": N, "last_loss": N, "seconds": N}, closed=True))})
files["client-report"] = output("client-report", "i2x report RUN -o FILE --json", ["path", "bytes", "seconds", "run"],
    {"path": S, "bytes": I, "seconds": N, "run": S})
files["client-intervene"] = output("client-intervene", "i2x intervene RUN --prototype K --json (after the outcome)",
    ["run", "intervention"], {"run": S, "intervention": ref("intervention")})
files["client-explain-text"] = output("client-explain-text", "i2x explain RUN --class C --text --json",
    ["class", "text"], {"class": I, "text": S})
files["train-eval"] = output("train-eval", "i2x-train eval --json",
    ["accuracy", "count", "loss", "classes", "per_class_accuracy", "confusion"],
    {"accuracy": N, "count": I, "loss": N, "classes": STRS, "per_class_accuracy": NUMS, "confusion": arr(INTS)})
for name, s in list(files.items()) + [("common", common)]:
    s["$id"] = "urn:i2x:schemas:" + name
    s = {"$schema": s.pop("$schema"), "$id": s.pop("$id"), **s}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(s, f, indent=2, ensure_ascii=False)
        f.write("\n")
print(len(files) + 1, "files")
