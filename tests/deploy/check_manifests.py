"""Checks of deploy/ as Kubernetes manifests: they parse, render, validate against the
strict schemas, run safely (non-root, read-only root, resources, pinned images), point at
objects that exist, and ship one release that deploy/docker's Dockerfiles build."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

import kubernetes_validate
import kubernetes_validate.utils
import yaml

import kustomize
from repo import (
    Repo,
    SPINAPP_API,
    check_resources,
    containers,
    find,
    image_tag,
    name_of,
    of_kind,
    spinapps,
    workloads,
)

# The Kubernetes version the standard resources are validated against (strict schemas:
# unknown fields are errors). SpinKube needs 1.30 or newer for the preStop sleep action.
K8S_VERSION = "1.34.0"

# The schemas are large JSON files; kubernetes-validate reads them on every call.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(
    kubernetes_validate.utils.schema_contents
)


def check_yaml_parses(repo: Repo) -> list[str]:
    """Every YAML file under deploy/ parses; every TOML file there too."""
    errors = []
    files = sorted(repo.deploy.rglob("*.yaml")) + sorted(repo.deploy.rglob("*.yml"))
    if not files:
        return ["deploy/ holds no YAML files"]
    for path in files:
        try:
            with path.open() as f:
                list(yaml.safe_load_all(f))
        except yaml.YAMLError as e:
            errors.append(f"{repo.rel(path)}: does not parse: {e}")
    for path in sorted(repo.deploy.rglob("*.toml")):
        try:
            tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            errors.append(f"{repo.rel(path)}: does not parse: {e}")
    return errors

def check_render(repo: Repo) -> list[str]:
    """Every overlay and its migrate/ kustomization renders with the supported subset."""
    errors = []
    if not repo.overlays:
        return ["deploy/overlays holds no overlay"]
    for overlay in repo.overlays:
        for directory in (overlay, overlay / "migrate"):
            try:
                if not kustomize.render(directory):
                    errors.append(f"{repo.rel(directory)}: renders no objects")
            except (kustomize.KustomizeError, yaml.YAMLError, OSError) as e:
                errors.append(f"{repo.rel(directory)}: {e}")
    return errors

def check_schemas(repo: Repo) -> list[str]:
    """Standard resources validate against the strict Kubernetes schemas of K8S_VERSION."""
    errors = []
    for where, objects in repo.renders.items():
        for obj in objects:
            what = f"{where}: {obj.get('kind')}/{name_of(obj)}"
            if obj.get("apiVersion") == SPINAPP_API:
                continue  # SpinKube's custom resources: check_spinapp covers them
            try:
                kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                errors.append(f"{what}: invalid at {path or '(top)'}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                errors.append(f"{what}: not a standard resource: {e.message}")
    return errors

def check_workloads(repo: Repo) -> list[str]:
    """Pods run non-root on a read-only root filesystem, with resources and pinned images;
    selectors, Services, HPAs and PDBs point at something that exists."""
    errors = []
    for where, objects in repo.renders.items():
        pod_labels = []
        for obj, pod in workloads(objects):
            what = f"{where}: {obj['kind']} {name_of(obj)}"
            labels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
            pod_labels.append((obj, labels, pod))
            selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels")
            if obj["kind"] == "Deployment" and not (selector and selector.items() <= labels.items()):
                errors.append(f"{what}: selector does not match the pod template's labels")
            if pod.get("automountServiceAccountToken") is not False:
                errors.append(f"{what}: automountServiceAccountToken must be false (no API access needed)")
            account = pod.get("serviceAccountName")
            if not account or find(objects, "ServiceAccount", account) is None:
                errors.append(f"{what}: serviceAccountName {account!r} is not in the overlay")
            pod_sc = pod.get("securityContext") or {}
            for c in containers(pod):
                cwhat = f"{what} container {c.get('name')}"
                sc = c.get("securityContext") or {}
                if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
                    errors.append(f"{cwhat}: must set runAsNonRoot (non-root)")
                if (sc.get("runAsUser", pod_sc.get("runAsUser")) or 0) == 0:
                    errors.append(f"{cwhat}: must run as a non-root numeric runAsUser")
                if sc.get("readOnlyRootFilesystem") is not True:
                    errors.append(f"{cwhat}: readOnlyRootFilesystem must be true")
                if sc.get("allowPrivilegeEscalation") is not False:
                    errors.append(f"{cwhat}: allowPrivilegeEscalation must be false")
                if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                    errors.append(f"{cwhat}: must drop ALL capabilities")
                errors += check_resources(cwhat, c.get("resources"))
                tag = image_tag(c.get("image", ""))
                if not tag or tag == "latest":
                    errors.append(f"{cwhat}: image {c.get('image')!r} must have a pinned tag")
        app_pods = [({"kind": "SpinApp", "metadata": a["metadata"]},
                     {"core.spinkube.dev/app-name": name_of(a)}, {}) for a in spinapps(objects)]
        for svc in of_kind(objects, "Service"):
            sel = (svc.get("spec") or {}).get("selector") or {}
            matches = [(o, p) for o, labels, p in pod_labels if sel and sel.items() <= labels.items()]
            if not matches:
                errors.append(f"{where}: Service {name_of(svc)} selects no pod template")
            for port in (svc.get("spec") or {}).get("ports") or []:
                target = port.get("targetPort", port.get("port"))
                for _, p in matches:
                    declared = [(cp.get("name"), cp.get("containerPort"))
                                for c in containers(p) for cp in c.get("ports") or []]
                    if not any(target in pair for pair in declared):
                        errors.append(f"{where}: Service {name_of(svc)} targets port {target!r}, "
                                      "which no selected container declares")
        for pdb in of_kind(objects, "PodDisruptionBudget"):
            sel = ((pdb.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            if not any(sel.items() <= labels.items() for _, labels, _ in pod_labels + app_pods):
                errors.append(f"{where}: PodDisruptionBudget {name_of(pdb)} selects no pods")
        for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
            ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
            target = find(objects, ref.get("kind", ""), ref.get("name", ""))
            app = find(objects, "SpinApp", ref.get("name", ""))
            if target is not None:
                if "replicas" in (target.get("spec") or {}):
                    errors.append(f"{where}: {ref['kind']} {ref['name']} sets replicas although "
                                  f"HPA {name_of(hpa)} owns the count (apply would reset it)")
            elif not (ref.get("kind") == "Deployment" and app and app["spec"].get("enableAutoscaling")):
                errors.append(f"{where}: HPA {name_of(hpa)} targets {ref.get('kind')} {ref.get('name')}, "
                              "which is neither in the overlay nor an autoscaled SpinApp's Deployment")
    return errors

def check_images(repo: Repo) -> list[str]:
    """One release per overlay: the app, worker, sidecar and migrate images carry the same
    tag, and each container image has a Dockerfile that builds it."""
    errors = []
    for overlay in repo.overlays:
        where = repo.rel(overlay)
        images = [a["spec"].get("image", "") for a in spinapps(repo.renders.get(where, []))]
        for key in (where, f"{where}/migrate"):
            images += [c.get("image", "") for _, pod in workloads(repo.renders.get(key, [])) for c in containers(pod)]
        tags = {image_tag(i) for i in images}
        if len(tags) != 1:
            errors.append(f"{where}: images of one release must share a tag: {sorted(images)}")
        # SpinApp images are Spin artefacts (spin registry push); the others are Docker builds.
        workload_images = images[len(spinapps(repo.renders.get(where, []))):]
        for image in workload_images:
            component = kustomize.split_image(image)[0].rsplit("/", 1)[-1]
            if not (repo.deploy / "docker" / f"{component}.Dockerfile").is_file():
                errors.append(f"{where}: no deploy/docker/{component}.Dockerfile builds {image}")
    return errors

def check_dockerfiles(repo: Repo) -> list[str]:
    """Multi-stage builds of a workspace binary, pinned bases, a non-root numeric user."""
    errors = []
    files = sorted((repo.deploy / "docker").glob("*.Dockerfile"))
    if not files:
        return ["deploy/docker holds no Dockerfile"]
    for path in files:
        text = path.read_text()
        where = repo.rel(path)
        froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
        if len(froms) < 2:
            errors.append(f"{where}: expected a multi-stage build (build stage, then a slim image)")
        for base in froms:
            if base.lower() not in {"scratch"} and (not image_tag(base) or image_tag(base) == "latest"):
                errors.append(f"{where}: base image {base} must be pinned to a version")
        final = text[text.rfind("\nFROM"):]
        users = re.findall(r"^USER\s+(\S+)", final, re.M)
        uid = users[-1].split(":")[0] if users else ""
        if not uid.isdigit() or int(uid) == 0:
            errors.append(f"{where}: the final stage must set USER to a non-root numeric uid, got {uid!r}")
        package = re.search(r"cargo build --release --locked -p (\S+)", text)
        entry = re.search(r'^ENTRYPOINT\s+\["([^"]+)"', final, re.M)
        if not package:
            errors.append(f"{where}: must build one package with `cargo build --release --locked -p`")
        elif not entry or Path(entry.group(1)).name != package.group(1):
            errors.append(f"{where}: ENTRYPOINT must run the {package.group(1)} binary it builds")
        exposed = [port.split("/")[0] for line in re.findall(r"^EXPOSE\s+(.+)$", final, re.M)
                   for port in line.split()]
        if exposed and path.name == "sidecar.Dockerfile":
            for objects in repo.app_renders().values():
                ports = {p.get("containerPort") for _, pod in workloads(objects) for c in containers(pod)
                         if "sidecar" in c.get("image", "") for p in c.get("ports") or []}
                if ports and {int(e) for e in exposed} != ports:
                    errors.append(f"{where}: EXPOSE {exposed} differs from the Deployment's ports {ports}")
    return errors
