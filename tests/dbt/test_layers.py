"""The dbt layers: refs flow staging -> intermediate -> marts. An intermediate model never
reads a mart (the flow would run backwards: a mart's consumers would be upstream of it)."""

import json

from orchestration.dbt_project import dbt_project


def _layer(node: dict) -> str:
    return node["original_file_path"].removeprefix("models/").split("/", 1)[0]


def test_intermediate_models_read_no_mart() -> None:
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {uid: node for uid, node in manifest["nodes"].items()
              if node["resource_type"] == "model"}
    backwards = sorted(
        f"{node['name']} reads {models[parent]['name']}"
        for node in models.values() if _layer(node) == "intermediate"
        for parent in node["depends_on"]["nodes"]
        if parent in models and _layer(models[parent]) == "marts")
    assert backwards == []
    assert {_layer(node) for node in models.values()} == {"staging", "intermediate", "marts"}


def test_staging_reads_no_intermediate_model_or_mart() -> None:
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {uid: node for uid, node in manifest["nodes"].items()
              if node["resource_type"] == "model"}
    staging = [node for node in models.values() if _layer(node) == "staging"]
    assert staging
    assert sorted(f"{node['name']} reads {models[parent]['name']}" for node in staging
                  for parent in node["depends_on"]["nodes"]
                  if parent in models and _layer(models[parent]) != "staging") == []
