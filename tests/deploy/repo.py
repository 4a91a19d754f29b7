"""The repository under check (its rendered overlays, its two Spin manifests, sources and
docs/deploy.md) and small helpers over rendered Kubernetes objects, shared by the check
modules."""

from __future__ import annotations

import functools
import re
import shlex
import tomllib
from pathlib import Path

import yaml

import kustomize

SPINAPP_API = "core.spinkube.dev/v1alpha1"
# Each SpinApp of deploy/ and the manifest its OCI artefact is pushed from: the API (HTTP
# triggers only) and the worker (Redis triggers only). On Spin a Redis trigger that loses
# its connection ends its process, so the two never share one (docs/deploy.md).
APP_MANIFESTS = {"rankedhonor": "spin.toml", "rankedhonor-worker": "spin-worker.toml"}
API_APP = "rankedhonor"


class Repo:
    """A checkout, with its overlays rendered once."""

    def __init__(self, root: Path):
        self.root = root
        self.deploy = root / "deploy"

    @functools.cached_property
    def overlays(self) -> list[Path]:
        base = self.deploy / "overlays"
        return sorted(p for p in base.iterdir() if (p / "kustomization.yaml").is_file())

    @functools.cached_property
    def renders(self) -> dict[str, list[dict]]:
        """Overlay (and overlay/migrate) path relative to the root -> rendered objects.
        An overlay that fails to render maps to an empty list (check_render reports it)."""
        out = {}
        for overlay in self.overlays:
            for directory in (overlay, overlay / "migrate"):
                try:
                    out[self.rel(directory)] = kustomize.render(directory)
                except (kustomize.KustomizeError, yaml.YAMLError, OSError):
                    out[self.rel(directory)] = []
        return out

    def app_renders(self) -> dict[str, list[dict]]:
        return {k: v for k, v in self.renders.items() if not k.endswith("/migrate")}

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    @functools.cache
    def manifest(self, file: str) -> dict:
        """A Spin manifest of the repository root, parsed ({} when it is missing)."""
        path = self.root / file
        if not path.is_file():
            return {}
        with path.open("rb") as f:
            return tomllib.load(f)

    def spin_variables(self, file: str = "spin.toml") -> dict[str, dict]:
        return self.manifest(file).get("variables", {})

    def spin_triggers(self, file: str, kind: str) -> list[dict]:
        return self.manifest(file).get("trigger", {}).get(kind, [])

    def spin_routes(self, file: str = "spin.toml") -> set[str]:
        return {t.get("route") for t in self.spin_triggers(file, "http")}

    def source(self, directory: str) -> str:
        return "\n".join(p.read_text() for p in sorted((self.root / directory).rglob("*.rs")))

    @functools.cached_property
    def documented_secrets(self) -> dict[str, set[str]]:
        """Secret name -> keys, from the `kubectl create secret generic` commands in docs/deploy.md."""
        path = self.root / "docs" / "deploy.md"
        text = path.read_text() if path.is_file() else ""
        secrets: dict[str, set[str]] = {}
        for command in re.sub(r"\\\n", " ", text).splitlines():
            if not command.strip().startswith("kubectl") or "create secret generic" not in command:
                continue
            words = shlex.split(command.split("#", 1)[0])
            name = words[words.index("generic") + 1]
            keys = secrets.setdefault(name, set())
            for word in words:
                m = re.match(r"--from-(?:literal|file)=([^=]+)(?:=(.*))?", word)
                if not m:
                    continue
                keys.add(m.group(1))
                if word.startswith("--from-file") and not (self.root / (m.group(2) or m.group(1))).is_file():
                    # Reported by check_references as a key that is not created.
                    keys.discard(m.group(1))
        return secrets


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o.get("kind") == kind]

def name_of(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")

def find(objects: list[dict], kind: str, name: str) -> dict | None:
    return next((o for o in of_kind(objects, kind) if name_of(o) == name), None)

def config_data(objects: list[dict], name: str) -> dict | None:
    cm = find(objects, "ConfigMap", name)
    return None if cm is None else (cm.get("data") or {})

def secret_keys(objects: list[dict], name: str) -> set[str] | None:
    s = find(objects, "Secret", name)
    if s is None:
        return None
    return set(s.get("data") or {}) | set(s.get("stringData") or {})

def workloads(objects: list[dict]) -> list[tuple[dict, dict]]:
    return [(o, pod) for o in objects for pod in kustomize.pod_specs(o)]

def containers(pod: dict) -> list[dict]:
    return (pod.get("containers") or []) + (pod.get("initContainers") or [])

def quantity(value) -> float:
    """A Kubernetes quantity ("500m", "1Gi", "2") as a number of units (cores, bytes)."""
    text = str(value)
    suffixes = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(suffixes.items(), key=lambda s: -len(s[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)

def check_resources(where: str, resources: dict | None) -> list[str]:
    errors = []
    resources = resources or {}
    for bound in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if res not in (resources.get(bound) or {}):
                errors.append(f"{where}: resources.{bound}.{res} is not set")
    for res in ("cpu", "memory"):
        req = (resources.get("requests") or {}).get(res)
        lim = (resources.get("limits") or {}).get(res)
        if req is not None and lim is not None and quantity(req) > quantity(lim):
            errors.append(f"{where}: {res} request {req} exceeds its limit {lim}")
    return errors

def env_source(entry: dict) -> tuple[str, str, str, bool] | None:
    """("secret"|"configmap", name, key, optional) for a valueFrom entry, else None."""
    value_from = entry.get("valueFrom") or {}
    for kind, field in (("secret", "secretKeyRef"), ("configmap", "configMapKeyRef")):
        ref = value_from.get(field)
        if ref:
            return kind, ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
    return None

def all_refs(objects: list[dict]) -> list[tuple[str, tuple[str, str, str, bool]]]:
    """(where, source) for every secretKeyRef/configMapKeyRef in SpinApps and pod templates."""
    refs = []
    for app in of_kind(objects, "SpinApp"):
        for var in (app.get("spec") or {}).get("variables") or []:
            src = env_source(var)
            if src:
                refs.append((f"SpinApp {name_of(app)} variable {var.get('name')}", src))
    for obj, pod in workloads(objects):
        for c in containers(pod):
            for entry in c.get("env") or []:
                src = env_source(entry)
                if src:
                    refs.append((f"{obj['kind']} {name_of(obj)} env {entry.get('name')}", src))
    return refs

def image_tag(image: str) -> str | None:
    return kustomize.split_image(image)[1]

def spinapps(objects: list[dict]) -> list[dict]:
    return of_kind(objects, "SpinApp")

def resolve(objects: list[dict], entry: dict | None) -> str | None:
    """The literal value of an env/variable entry (a ConfigMap's value for configMapKeyRef)."""
    if not entry:
        return None
    if "value" in entry:
        return entry["value"]
    src = env_source(entry)
    if src and src[0] == "configmap":
        return (config_data(objects, src[1]) or {}).get(src[2])
    return None

def resolve_env(objects: list[dict], env: dict[str, dict], name: str) -> str | None:
    value = resolve(objects, env.get(name))
    if value is None:
        return None
    return re.sub(r"\$\(([A-Z0-9_]+)\)", lambda m: str(resolve(objects, env.get(m.group(1)))), value)
