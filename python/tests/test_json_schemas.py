"""Real replies against the JSON Schema files in docs/schemas (README "JSON interface").

One real daemon for the module, started with a tiny generator (``i2x-train generator``, seconds):
``i2x-train train`` learns the synthetic blobs for one epoch and publishes six checkpoints (step 0 included)
(class names with capitals and a slash, as Fashion-MNIST's). Once they are analysed, every query
reply, command answer and ``--json`` output of ``i2x`` and ``i2x-train eval|explain`` is
validated against its schema (draft 2020-12), and a camelCase key is shown to fail.
"""

import glob
import json
import os
import subprocess

import jsonschema
import numpy as np
import pytest
from referencing import Registry, Resource
from safetensors.numpy import load_file

from i2x import wire
from conftest import ROOT, Daemon, binary, openblas_env

SCHEMAS = os.path.join(ROOT, "docs", "schemas")
RUN = "schema-run"
SPLIT = ["--validation-size", "200", "--probe-per-class", "10", "--generator-size", "100"]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_schemas() -> dict:
    return {os.path.basename(path)[:-len(".json")]: json.load(open(path)) for path in glob.glob(SCHEMAS + "/*.json")}


SCHEMA_FILES = load_schemas()
REGISTRY = Registry().with_resources(
    [(schema["$id"], Resource.from_contents(schema)) for schema in SCHEMA_FILES.values()])


def validate(document, name: str) -> None:
    """Raises ``jsonschema.ValidationError`` (the first error) when ``document`` breaks schema ``name``."""
    validator = jsonschema.Draft202012Validator(SCHEMA_FILES[name], registry=REGISTRY)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        raise errors[0]


class World:
    """The daemon, its trained run and the outputs of the commands that change it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.env = openblas_env()
        self.names = tmp / "classes.txt"
        self.names.write_text("\n".join(CLASSES) + "\n")
        self.generator = str(tmp / "generator.safetensors")
        self.trainer("generator", "--dataset", "synthetic", "--class-names", str(self.names), "--vae-epochs", "1",
                     "--denoiser-steps", "20", "--width", "4", "--hidden", "16", "--out", self.generator, *SPLIT)
        self.daemon = Daemon(str(tmp / "data")).start(
            "--generator", self.generator, "--explain", "manual", "--explain-samples", "4", "--faithfulness-sample", "2")
        self.endpoint = self.daemon.endpoint
        self.outputs = {}

    def trainer(self, *args: str) -> str:
        result = subprocess.run([binary("i2x-train"), *args], capture_output=True, text=True, timeout=600,
                                env=self.env)
        assert result.returncode == 0, (args, result.stderr[-3000:])
        return result.stdout

    def cli(self, *args: str) -> str:
        result = subprocess.run([binary("i2x"), *args, "--endpoint", self.endpoint, "--json"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    def train(self) -> None:
        self.trainer("train", "--dataset", "synthetic", "--class-names", str(self.names), "--arch", "smallcnn-bn",
                     "--epochs", "1", "--batch", "32", "--publish", self.endpoint, "--publish-every", "15", "--run",
                     RUN, "--out", str(self.tmp / "out"), *SPLIT)
        self.checkpoint = str(self.tmp / "out" / "final.safetensors")
        self.daemon.wait_for_analysis(RUN, 6, timeout=300)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("schemas"))
    try:
        world.train()
        client = world.daemon.client()
        prototypes = client.prototypes(RUN)["prototypes"]
        # The most present prototype of class 0, for a fine-tune, an intervention and its lineage.
        world.prototype = max(prototypes, key=lambda p: p["presence"][0])["id"]
        world.outputs["set-policy"] = world.cli("policy", RUN, "--set", "manual")
        world.outputs["set-explain-policy"] = world.cli("policy", RUN, "--explain", "manual")
        world.outputs["finetune"] = world.cli("finetune", RUN, "--pair", "T-shirt/top,1", "--prototype",
                                              str(world.prototype))
        world.directive = json.loads(world.outputs["finetune"])["directive"]["id"]
        world.outputs["intervene"] = world.cli("intervene", RUN, "--prototype", str(world.prototype), "--class", "0")
        world.outputs["explain"] = world.cli("explain", RUN, "--class", "T-shirt/top", "--wait", "300")
        world.outputs["explain-text"] = world.cli("explain", RUN, "--class", "T-shirt/top", "--text")
        world.outputs["counterfactual"] = world.cli("counterfactual", RUN, "--probe", "1", "--to", "T-shirt/top",
                                                    "--wait", "300")
        world.outputs["concepts"] = world.cli("concepts", RUN, "--class", "Trouser", "--wait", "600")
        world.outputs["prototypes"] = world.cli("prototypes", RUN, "--data-free", "--wait", "600")
        yield world
    finally:
        world.daemon.stop()


QUERIES = [
    ("status", {}, "query-status"),
    ("runs", {}, "query-runs"),
    ("checkpoints", {"run": RUN}, "query-checkpoints"),
    ("analysis", {"run": RUN}, "query-analysis"),
    ("prototypes", {"run": RUN}, "query-prototypes"),
    ("progress", {"run": RUN}, "query-progress"),
    ("pairs", {"run": RUN}, "query-pairs"),
    ("uncertain", {"run": RUN}, "query-uncertain"),
    ("directives", {"run": RUN}, "query-directives"),
    ("events", {"run": RUN}, "query-events"),
    ("findings", {"run": RUN}, "query-findings"),
    ("interventions", {"run": RUN}, "query-interventions"),
    ("explanations", {"run": RUN}, "query-explanations"),
    ("profiles", {"run": RUN}, "query-profiles"),
    ("probe", {"run": RUN}, "query-binary"),
    ("observation", {"run": RUN}, "query-binary"),
]


@pytest.mark.parametrize("query,fields,schema", QUERIES, ids=[q[0] for q in QUERIES])
def test_query_replies_match_their_schemas(world, query, fields, schema):
    reply = world.daemon.client().query(query, **fields)
    assert reply["schema_version"] == 2
    validate(reply, schema)


def test_lineage_directive_payload_and_verify_replies_match(world):
    client = world.daemon.client()
    validate(client.query("lineage", RUN, prototype=world.prototype), "query-lineage")
    payload = client.query("directive-payload", RUN, directive=world.directive)
    validate(payload, "query-directive-payload")
    assert payload["directive"]["class_names"] == ["T-shirt/top", "Trouser"]
    images = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    validate(client.verify(RUN, load_file(world.checkpoint), images), "query-verify")


def test_data_keys_are_kept(world):
    """Class names and metric names are data: they come back as sent."""
    client = world.daemon.client()
    assert client.analysis(RUN)["class_names"] == CLASSES
    assert client.runs()[0]["classes"] == CLASSES
    assert "validation_accuracy" in client.checkpoints(RUN)[-1]["metrics"]


COMMANDS = [
    (["status"], "query-status"),
    (["runs"], "query-runs"),
    (["checkpoints", RUN], "query-checkpoints"),
    (["prototypes", RUN], "query-prototypes"),
    (["progress", RUN], "query-progress"),
    (["pairs", RUN], "query-pairs"),
    (["uncertain", RUN], "query-uncertain"),
    (["directives", RUN], "query-directives"),
    (["policy", RUN], "client-policy"),
    (["findings", RUN], "query-findings"),
]


@pytest.mark.parametrize("args,schema", COMMANDS, ids=[" ".join(c[0][:1]) for c in COMMANDS])
def test_client_json_outputs_match_their_schemas(world, args, schema):
    validate(json.loads(world.cli(*args)), schema)


def test_client_command_outputs_match_their_schemas(world):
    validate(json.loads(world.outputs["set-policy"]), "command-set-policy")
    validate(json.loads(world.outputs["set-explain-policy"]), "command-set-explain-policy")
    validate(json.loads(world.outputs["finetune"]), "command-finetune")
    validate(json.loads(world.outputs["intervene"]), "client-intervene")
    validate(json.loads(world.cli("prototypes", RUN, "--id", str(world.prototype), "--history")), "query-lineage")
    validate(json.loads(world.cli("directives", RUN, "--export", str(world.directive))), "directive")
    report = world.tmp / "report.html"
    validate(json.loads(world.cli("report", RUN, "-o", str(report))), "client-report")
    lines = world.cli("watch", RUN, "--count", "3").splitlines()
    assert len(lines) == 3
    for line in lines:
        validate(json.loads(line), "watch-line")


def test_explainer_outputs_match_their_schemas(world):
    rows = {}
    for kind in ["explain", "counterfactual", "concepts", "prototypes"]:
        row = json.loads(world.outputs[kind])
        assert row["state"] == "done", row
        validate(row, "client-explanation")
        rows[kind] = row
    assert rows["explain"]["explanation"]["schema"] == "i2x.explanation/1"
    assert rows["counterfactual"]["explanation"]["schema"] == "i2x.counterfactual/1"
    assert rows["concepts"]["explanation"]["schema"] == "i2x.concepts/1"
    assert rows["prototypes"]["explanation"]["schema"] == "i2x.data-free-prototypes/1"
    validate(json.loads(world.outputs["explain-text"]), "client-explain-text")
    client = world.daemon.client()
    listing = client.query("explanations", RUN)
    validate(listing, "query-explanations")
    assert len(listing["explanations"]) == 4 and "generator" in listing
    validate(json.loads(world.cli("explain", RUN)), "query-explanations")
    image = client.query("explanation-image", RUN, explanation=rows["explain"]["id"], image="guided")
    validate(image, "query-binary")
    # A command answer (not waited for): the explanation already exists, so it is not created again.
    answer = client._request(wire.Message(wire.COMMAND, {"command": "explain", "run": RUN, "class": "T-shirt/top"}))
    validate(answer.header, "command-explain")


def test_trainer_explainer_outputs_match_their_schemas(world):
    common = ["--generator", world.generator, "--checkpoint", world.checkpoint]
    data = ["--dataset", "synthetic", "--class-names", str(world.names)]
    validate(json.loads(world.trainer("explain", *common, "--class", "0", "--count", "4", "--json")), "train-explain")
    concepts = json.loads(world.trainer("concepts", *common, "--class", "1", "--steps", "20", "--runs", "1", "--json"))
    validate(concepts, "train-concepts")
    assert concepts["class_name"] == "Trouser"
    validate(json.loads(world.trainer("counterfactual", *common, *data, "--from", "1", "--to", "0", "--count", "2",
                                      "--json")), "train-counterfactuals")
    validate(json.loads(world.trainer("prototypes", *common, *data, "--count", "4", "--json")), "train-prototypes")


def test_error_replies_match_their_schema(world):
    connection = wire.Connection(world.endpoint, timeout=2, attempts=2)
    try:
        reply = connection.request(wire.query_message("checkpoints", "no-such-run"))
    finally:
        connection.close()
    assert reply.type == wire.ERROR and reply.header["code"] == "unknown-run"
    validate(reply.header, "error")


def test_trainer_eval_json_matches_its_schema(world):
    result = subprocess.run(
        [binary("i2x-train"), "eval", "--checkpoint", world.checkpoint, "--dataset", "synthetic", "--json"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    validate(json.loads(result.stdout), "train-eval")


def test_trainer_experiment_json_matches_its_schema(world):
    """The fine-tune experiment fetches the run's directive (i2x.directive/2) from the daemon."""
    report = json.loads(world.trainer(
        "experiment", "finetune", "--dataset", "synthetic", "--class-names", str(world.names), "--arch", "smallcnn-bn",
        "--start", world.checkpoint, "--from-daemon", RUN, "--endpoint", world.endpoint, "--seeds", "1",
        "--out", str(world.tmp / "experiment"), "--json"))
    validate(report, "train-experiment")
    assert report["directive"]["class_names"] == ["T-shirt/top", "Trouser"]


def test_the_schemas_are_valid_and_refuse_camel_case_keys(world):
    for name, schema in SCHEMA_FILES.items():
        jsonschema.Draft202012Validator.check_schema(schema)
    reply = world.daemon.client().prototypes(RUN)
    validate(reply, "query-prototypes")
    # The same reply with one field key in the old camelCase spelling, at the top and nested.
    old_top = dict(reply)
    old_top["classNames"] = old_top.pop("class_names")
    with pytest.raises(jsonschema.ValidationError):
        validate(old_top, "query-prototypes")
    old_nested = json.loads(json.dumps(reply))
    old_nested["prototypes"][0]["sharedBy"] = old_nested["prototypes"][0].pop("shared_by")
    with pytest.raises(jsonschema.ValidationError):
        validate(old_nested, "query-prototypes")
    old_version = dict(reply, schema_version=1)
    with pytest.raises(jsonschema.ValidationError):
        validate(old_version, "query-prototypes")
