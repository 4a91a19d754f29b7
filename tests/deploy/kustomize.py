"""The part of kustomize that deploy/ uses, so the checks can render the overlays without
a kustomize binary (when `kubectl` is on PATH, test_deploy.py also renders with its
built-in kustomize and requires the same objects).

Supported kustomization fields: `resources` (files and directories), `patches` (by
`path`, strategic-merge patches that name their target by kind and name), `images`
(`newName`/`newTag` on pod-template containers), `configMapGenerator` (from `files`, with
`options.labels` and `options.disableNameSuffixHash: true`: the hash suffix kustomize
would compute is not reproduced) and `namespace`. Anything else is an
error rather than silently ignored, so deploy/ cannot start depending on a feature this
renderer would get wrong.

Strategic merge follows Kubernetes' rules for the lists we patch: in built-in kinds,
lists with a merge key (containers by name, env by name, ports by containerPort, ...)
merge item by item, other lists are replaced; in custom resources (SpinApp), which
kustomize knows no schema for, every list is replaced. `null` deletes a field.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "patches", "images", "configMapGenerator", "namespace"}
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# Kinds that are not namespaced (the `namespace` field leaves them alone).
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
}

# Merge keys of the built-in list fields deploy/ may patch (patchMergeKey in the
# Kubernetes API types). Lists not named here are replaced by a patch.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}


class KustomizeError(Exception):
    pass


def is_builtin(obj: dict) -> bool:
    """Built-in API groups (core, apps, batch, ... and *.k8s.io) have strategic-merge schemas."""
    api_version = obj.get("apiVersion", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    return "." not in group or group.endswith(".k8s.io")


def object_id(obj: dict) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def load_documents(path: Path) -> list[dict]:
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def find_kustomization(directory: Path) -> Path:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise KustomizeError(f"{directory}: no kustomization.yaml")


def render(directory: Path) -> list[dict]:
    """The objects `kustomize build directory` would print, in resource order."""
    kpath = find_kustomization(directory)
    docs = load_documents(kpath)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise KustomizeError(f"{kpath}: expected one mapping")
    kust = docs[0]
    unsupported = set(kust) - SUPPORTED_FIELDS
    if unsupported:
        raise KustomizeError(f"{kpath}: unsupported kustomization field(s): {sorted(unsupported)}")

    objects: list[dict] = []
    for entry in kust.get("resources") or []:
        target = (directory / entry).resolve()
        if target.is_dir():
            objects.extend(render(target))
        elif target.is_file():
            objects.extend(load_documents(target))
        else:
            raise KustomizeError(f"{kpath}: resource {entry} does not exist")

    for generator in kust.get("configMapGenerator") or []:
        objects.append(generate_config_map(directory, generator, kpath))

    for patch in kust.get("patches") or []:
        if set(patch) != {"path"}:
            raise KustomizeError(f"{kpath}: only `patches: - path: FILE` is supported, got {patch}")
        patch_file = directory / patch["path"]
        if not patch_file.is_file():
            raise KustomizeError(f"{kpath}: patch {patch['path']} does not exist")
        for doc in load_documents(patch_file):
            apply_patch(objects, doc, patch_file)

    for image in kust.get("images") or []:
        set_image(objects, image, kpath)

    namespace = kust.get("namespace")
    if namespace:
        for obj in objects:
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = namespace

    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        oid = object_id(obj)
        if oid in seen:
            raise KustomizeError(f"{kpath}: duplicate object {oid}")
        seen.add(oid)
    return objects


def generate_config_map(directory: Path, generator: dict, kpath: Path) -> dict:
    """A `configMapGenerator` entry: `name`, `files` (keyed by file name), `options`."""
    if set(generator) - {"name", "files", "options"} or "name" not in generator:
        raise KustomizeError(f"{kpath}: only configMapGenerator name/files/options are supported")
    options = generator.get("options") or {}
    if set(options) - {"labels", "disableNameSuffixHash"} or options.get("disableNameSuffixHash") is not True:
        raise KustomizeError(f"{kpath}: configMapGenerator {generator['name']} needs "
                             "options.disableNameSuffixHash: true (and no other option but labels)")
    data = {}
    for entry in generator.get("files") or []:
        path = directory / entry
        if not path.is_file():
            raise KustomizeError(f"{kpath}: configMapGenerator file {entry} does not exist")
        data[path.name] = path.read_text()
    metadata: dict = {"name": generator["name"]}
    if options.get("labels"):
        metadata["labels"] = dict(options["labels"])
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def apply_patch(objects: list[dict], patch: dict, source: Path) -> None:
    kind = patch.get("kind")
    name = (patch.get("metadata") or {}).get("name")
    group = patch.get("apiVersion", "").split("/")[0]
    targets = [
        obj
        for obj in objects
        if obj.get("kind") == kind
        and (obj.get("metadata") or {}).get("name") == name
        and obj.get("apiVersion", "").split("/")[0] == group
    ]
    if len(targets) != 1:
        raise KustomizeError(f"{source}: patch for {kind}/{name} matches {len(targets)} objects")
    target = targets[0]
    merged = merge(target, patch, is_builtin(target), source)
    target.clear()
    target.update(merged)


def merge(base: Any, patch: Any, builtin: bool, source: Path, field: str = "") -> Any:
    if isinstance(patch, dict):
        if any(key.startswith("$") for key in patch):
            raise KustomizeError(f"{source}: patch directives ($patch, ...) are not supported")
        if not isinstance(base, dict):
            return strip_nulls(copy.deepcopy(patch))
        out = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value, builtin, source, key)
            else:
                out[key] = strip_nulls(copy.deepcopy(value))
        return out
    if isinstance(patch, list) and isinstance(base, list) and builtin:
        key = merge_key(field, base + patch)
        if key is not None:
            return merge_list(base, patch, key, builtin, source)
    return strip_nulls(copy.deepcopy(patch))


def merge_key(field: str, items: list) -> str | None:
    if field == "ports" and all(isinstance(i, dict) and "containerPort" in i for i in items):
        return "containerPort"
    if field == "ports" and all(isinstance(i, dict) and "port" in i for i in items):
        return "port"
    return MERGE_KEYS.get(field)


def merge_list(base: list, patch: list, key: str, builtin: bool, source: Path) -> list:
    """kustomize's order: the patch's items first (merged with the base's item of the same
    key), then the base's other items. Order matters: an env entry can refer only to
    entries before it with $(NAME)."""
    out = []
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise KustomizeError(f"{source}: list item without merge key {key}: {item}")
        existing = next((e for e in base if isinstance(e, dict) and e.get(key) == item[key]), None)
        out.append(merge(existing, item, builtin, source) if existing is not None
                   else strip_nulls(copy.deepcopy(item)))
    patched = {item[key] for item in patch}
    out += [copy.deepcopy(e) for e in base if not (isinstance(e, dict) and e.get(key) in patched)]
    return out


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def pod_specs(obj: dict) -> list[dict]:
    """The pod specs inside a workload object (Pod, Deployment-like, Job, CronJob)."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return [spec]
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template_spec = (spec.get("template") or {}).get("spec")
    return [template_spec] if isinstance(template_spec, dict) else []


def split_image(image: str) -> tuple[str, str | None]:
    """`registry:5000/a/b:tag` -> (`registry:5000/a/b`, `tag`); a digest counts as no tag."""
    if "@" in image:
        return image.split("@", 1)[0], None
    name, sep, tag = image.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return image, None


def set_image(objects: list[dict], image: dict, source: Path) -> None:
    unsupported = set(image) - {"name", "newName", "newTag"}
    if unsupported or "name" not in image:
        raise KustomizeError(f"{source}: images entries take name, newName, newTag only: {image}")
    if not isinstance(image.get("newTag", ""), str):
        # YAML reads an unquoted 1.10 as the number 1.1: quote tags.
        raise KustomizeError(f"{source}: quote newTag {image['newTag']!r} (YAML read it as a number)")
    for obj in objects:
        for pod in pod_specs(obj):
            for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
                name, tag = split_image(container.get("image", ""))
                if name != image["name"]:
                    continue
                new_name = image.get("newName", name)
                new_tag = image.get("newTag", tag)
                container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name
