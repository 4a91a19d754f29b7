"""Checks of deploy/ against the Kubernetes schemas and against the code it deploys.

Each check takes a `Repo` (a checkout: the real one, or a broken copy in the
self-tests) and returns a list of problems, empty when all is well. `CHECKS` lists them;
test_deploy.py runs each one on the real tree and proves each can fail on broken copies.

What ties deploy/ to the code, so that neither drifts alone:
- spin.toml `[variables]`: the SpinApp binds every required one, binds nothing spin.toml
  does not declare, and binds secret ones from a Secret only;
- sidecar/src: the sidecar Deployment sets only environment variables the binary reads,
  and its shutdown budget follows the close timeout in sidecar/src/config.rs;
- tools/migrate/src: the Job runs a real subcommand with the variable rh-migrate reads;
- docs/deploy.md: every Secret key a manifest references and no overlay ships is one
  that the document's `kubectl create secret` commands create.
"""

from __future__ import annotations

import functools
import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import kubernetes_validate.utils
import yaml

import kustomize

# The Kubernetes version the standard resources are validated against (strict schemas:
# unknown fields are errors). SpinKube needs 1.30 or newer for the preStop sleep action.
K8S_VERSION = "1.34.0"
SPINAPP_API = "core.spinkube.dev/v1alpha1"
SPIN_EXECUTOR = "containerd-shim-spin"
HEALTH_PATH = "/health"
# The SpinApp spec fields deploy/ may use (SpinKube's SpinAppSpec as of spin-operator 0.5,
# which added serviceAccountName).
SPINAPP_FIELDS = {
    "image", "executor", "replicas", "enableAutoscaling", "serviceAccountName", "podLabels",
    "podAnnotations", "checks", "resources", "runtimeConfig", "variables", "imagePullSecrets",
}
# Memory budget per idle WebSocket connection (docs/benchmarks.md measured about 18 KiB)
# and for the sidecar process itself.
SIDECAR_BYTES_PER_CONNECTION = 20 * 1024
SIDECAR_BASE_BYTES = 32 * 1024 * 1024

# The schemas are large JSON files; kubernetes-validate reads them on every call.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(
    kubernetes_validate.utils.schema_contents
)


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

    @functools.cached_property
    def spin_variables(self) -> dict[str, dict]:
        with (self.root / "spin.toml").open("rb") as f:
            return tomllib.load(f).get("variables", {})

    @functools.cached_property
    def spin_routes(self) -> set[str]:
        with (self.root / "spin.toml").open("rb") as f:
            triggers = tomllib.load(f).get("trigger", {}).get("http", [])
        return {t.get("route") for t in triggers}

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


# --- helpers -----------------------------------------------------------------------------

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
    return [o for o in of_kind(objects, "SpinApp")]


# --- checks ------------------------------------------------------------------------------

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


def check_spinapp(repo: Repo) -> list[str]:
    """The SpinApp has what SpinKube needs and nothing it does not know."""
    errors = []
    for where, objects in repo.app_renders().items():
        apps = spinapps(objects)
        if len(apps) != 1:
            errors.append(f"{where}: expected one SpinApp, found {len(apps)}")
            continue
        app = apps[0]
        spec = app.get("spec") or {}
        what = f"{where}: SpinApp {name_of(app)}"
        if app.get("apiVersion") != SPINAPP_API:
            errors.append(f"{what}: apiVersion must be {SPINAPP_API}")
        for field in sorted(set(spec) - SPINAPP_FIELDS):
            errors.append(f"{what}: unknown spec field {field}")
        if not spec.get("image") or not image_tag(spec["image"]) or image_tag(spec["image"]) == "latest":
            errors.append(f"{what}: spec.image must name a pinned tag, got {spec.get('image')!r}")
        if spec.get("executor") != SPIN_EXECUTOR:
            errors.append(f"{what}: spec.executor must be {SPIN_EXECUTOR}")
        executor = find(objects, "SpinAppExecutor", spec.get("executor", ""))
        executor_spec = (executor or {}).get("spec") or {}
        if executor is None or executor.get("apiVersion") != SPINAPP_API:
            errors.append(f"{what}: SpinAppExecutor {spec.get('executor')} is not in the overlay "
                          "(SpinKube looks it up in the SpinApp's namespace)")
        elif not executor_spec.get("createDeployment") or not (
            (executor_spec.get("deploymentConfig") or {}).get("runtimeClassName")
        ):
            errors.append(f"{what}: SpinAppExecutor must set createDeployment and a runtimeClassName")
        # SpinKube's admission rules: replicas >= 1 without autoscaling, unset with it.
        if spec.get("enableAutoscaling"):
            if "replicas" in spec:
                errors.append(f"{what}: replicas must be unset when enableAutoscaling is true")
            hpas = [h for h in of_kind(objects, "HorizontalPodAutoscaler")
                    if h["spec"]["scaleTargetRef"].get("name") == name_of(app)]
            if not hpas:
                errors.append(f"{what}: enableAutoscaling is true but no HPA targets Deployment {name_of(app)}")
        elif not isinstance(spec.get("replicas"), int) or spec["replicas"] < 1:
            errors.append(f"{what}: replicas must be at least 1 (or enableAutoscaling true)")
        errors += check_resources(what, spec.get("resources"))
        readiness = (spec.get("checks") or {}).get("readiness") or {}
        for probe_name, probe in (spec.get("checks") or {}).items():
            path = ((probe or {}).get("httpGet") or {}).get("path")
            if path != HEALTH_PATH:
                errors.append(f"{what}: {probe_name} probe must get {HEALTH_PATH}, not {path!r}")
        if not readiness:
            errors.append(f"{what}: needs a readiness check on {HEALTH_PATH}")
        if HEALTH_PATH not in repo.spin_routes:
            errors.append(f"spin.toml has no {HEALTH_PATH} route for the SpinApp's probe")
        secret = (spec.get("runtimeConfig") or {}).get("loadFromSecret")
        if not secret:
            errors.append(f"{what}: runtimeConfig.loadFromSecret must name the runtime config Secret")
        elif set((spec.get("runtimeConfig") or {})) != {"loadFromSecret"}:
            errors.append(f"{what}: loadFromSecret ignores the other runtimeConfig fields")
        account = spec.get("serviceAccountName")
        if account and find(objects, "ServiceAccount", account) is None:
            errors.append(f"{what}: ServiceAccount {account} is not in the overlay")
    return errors


def check_variables(repo: Repo) -> list[str]:
    """SpinApp variables against spin.toml [variables]."""
    errors = []
    declared = repo.spin_variables
    required = {n for n, v in declared.items() if v.get("required") or "default" not in v}
    secret = {n for n, v in declared.items() if v.get("secret")}
    for where, objects in repo.app_renders().items():
        for app in spinapps(objects):
            what = f"{where}: SpinApp {name_of(app)}"
            bound: dict[str, dict] = {}
            for var in (app.get("spec") or {}).get("variables") or []:
                name = var.get("name", "")
                if name in bound:
                    errors.append(f"{what}: variable {name} is bound twice")
                bound[name] = var
                if name not in declared:
                    errors.append(f"{what}: variable {name} is not declared in spin.toml")
                if ("value" in var) == ("valueFrom" in var):
                    errors.append(f"{what}: variable {name} needs exactly one of value and valueFrom")
                src = env_source(var)
                if name in secret and (src is None or src[0] != "secret"):
                    errors.append(f"{what}: secret variable {name} must come from a Secret (secretKeyRef)")
                if name in required and src is not None and src[3]:
                    errors.append(f"{what}: required variable {name} must not be optional")
            for name in sorted(required - set(bound)):
                errors.append(f"{what}: spin.toml requires variable {name}, which the SpinApp does not bind")
            errors += check_origins(what, objects, bound, declared)
    return errors


def check_origins(what: str, objects: list[dict], bound: dict, declared: dict) -> list[str]:
    """A `*_origin` variable must stay the scheme://host[:port] of its URL variable."""
    def value(name: str) -> str | None:
        var = bound.get(name)
        if var is None:
            return declared.get(name, {}).get("default")
        if "value" in var:
            return var["value"]
        src = env_source(var)
        if src and src[0] == "configmap":
            return (config_data(objects, src[1]) or {}).get(src[2], declared.get(name, {}).get("default"))
        return None  # a Secret's value is not in the repository

    errors = []
    for origin_name in (n for n in declared if n.endswith("_origin")):
        prefix = origin_name[: -len("_origin")]
        url_names = [n for n in declared if n.startswith(prefix) and n.endswith("_url")]
        origin = value(origin_name)
        for url_name in url_names:
            url = value(url_name)
            if not url or origin is None:
                continue
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != origin:
                errors.append(f"{what}: {origin_name} {origin!r} is not the origin of {url_name} {url!r}")
    return errors


def check_references(repo: Repo) -> list[str]:
    """ConfigMap and Secret references resolve; Secrets the repository does not ship are
    created by docs/deploy.md's commands; production ships no Secret."""
    errors = []
    documented = repo.documented_secrets
    for where, objects in repo.renders.items():
        for ref_where, (kind, name, key, optional) in all_refs(objects):
            if kind == "configmap":
                data = config_data(objects, name)
                if data is None:
                    errors.append(f"{where}: {ref_where}: ConfigMap {name} is not in the overlay")
                elif key not in data and not optional:
                    errors.append(f"{where}: {ref_where}: configMapKeyRef {name}/{key} does not exist")
                continue
            keys = secret_keys(objects, name)
            if keys is not None:
                if key not in keys and not optional:
                    errors.append(f"{where}: {ref_where}: Secret {name} has no key {key}")
            elif key not in documented.get(name, set()):
                errors.append(f"{where}: {ref_where}: Secret {name} key {key} is neither in the "
                              "overlay nor created by docs/deploy.md")
        for app in spinapps(objects):
            secret = ((app.get("spec") or {}).get("runtimeConfig") or {}).get("loadFromSecret")
            if secret:
                keys = secret_keys(objects, secret)
                if keys is None:
                    keys = documented.get(secret)
                if keys != {"runtime-config.toml"}:
                    errors.append(f"{where}: runtime config Secret {secret} must hold exactly the key "
                                  f"runtime-config.toml (in the overlay or docs/deploy.md), has {keys}")
        for s in of_kind(objects, "Secret"):
            text = (s.get("stringData") or {}).get("runtime-config.toml")
            if text is not None:
                try:
                    tomllib.loads(text)
                except tomllib.TOMLDecodeError as e:
                    errors.append(f"{where}: Secret {name_of(s)}: runtime-config.toml does not parse: {e}")
        if "production" in where:
            for s in of_kind(objects, "Secret"):
                errors.append(f"{where}: commits Secret {name_of(s)}: production Secrets are created, never committed")
            if "dev-only" in yaml.safe_dump_all(objects):
                errors.append(f"{where}: contains a dev-only value")
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


def check_sidecar(repo: Repo) -> list[str]:
    """The sidecar Deployment against what rh-sidecar reads and how it shuts down."""
    errors = []
    source = repo.source("sidecar/src")
    readable = set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', source))
    readable |= set(re.findall(r'env::var(?:_os)?\(\s*"([A-Z0-9_]+)"', source))
    if "try_from_default_env" in source:
        readable.add("RUST_LOG")  # tracing-subscriber's EnvFilter reads it
    required = set(re.findall(r'env::var\(\s*"([A-Z0-9_]+)"\s*\)\s*\.context', source))
    m = re.search(r"close_timeout:\s*Duration::from_secs\((\d+)\)", source)
    if not m:
        return ["sidecar/src: cannot find the default close_timeout (Duration::from_secs) in Limits"]
    close_timeout = int(m.group(1))
    m = re.search(r'env\s*=\s*"RH_SIDECAR_MAX_CONNECTIONS",\s*default_value_t\s*=\s*([\d_]+)', source)
    default_max_connections = int(m.group(1).replace("_", "")) if m else None

    for where, objects in repo.app_renders().items():
        deployments = [d for d in of_kind(objects, "Deployment") if "sidecar" in name_of(d)]
        if len(deployments) != 1:
            errors.append(f"{where}: expected one sidecar Deployment, found {len(deployments)}")
            continue
        dep = deployments[0]
        what = f"{where}: Deployment {name_of(dep)}"
        pod = kustomize.pod_specs(dep)[0]
        if len(pod.get("containers") or []) != 1:
            errors.append(f"{what}: expected one container")
            continue
        c = pod["containers"][0]
        env = {e["name"]: e for e in c.get("env") or []}
        referenced = set()
        defined: list[str] = []
        # Kubernetes expands $(NAME) only from entries defined earlier in the list.
        for e in c.get("env") or []:
            for ref in re.findall(r"\$\(([A-Z0-9_]+)\)", e.get("value", "")):
                referenced.add(ref)
                if ref not in defined:
                    errors.append(f"{what}: {e['name']} uses $({ref}), which no earlier env entry defines")
            defined.append(e["name"])
        for name in sorted(set(env) - readable - referenced):
            errors.append(f"{what}: sets {name}, which rh-sidecar does not read")
        for name in sorted((required | {"RH_REDIS_URL", "RH_SIDECAR_LISTEN"}) - set(env)):
            errors.append(f"{what}: must set {name}")

        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        listen = (env.get("RH_SIDECAR_LISTEN") or {}).get("value", "")
        host, _, port = listen.rpartition(":")
        if host not in ("0.0.0.0", "[::]") or not port.isdigit() or int(port) not in ports.values():
            errors.append(f"{what}: RH_SIDECAR_LISTEN {listen!r} must be 0.0.0.0 on a declared containerPort")

        # Same JWT key and same Redis as the app.
        apps = spinapps(objects)
        app_vars = {v["name"]: v for v in (apps[0]["spec"].get("variables") or [])} if apps else {}
        if "RH_JWT_SECRET" in env and env_source(env["RH_JWT_SECRET"]) != env_source(app_vars.get("jwt_secret", {})):
            errors.append(f"{what}: RH_JWT_SECRET must come from the same Secret key as the app's jwt_secret")
        want = f"redis://{resolve(objects, app_vars.get('redis_host'))}/{resolve(objects, app_vars.get('redis_db'))}"
        got = resolve_env(objects, env, "RH_REDIS_URL")
        if got != want:
            errors.append(f"{what}: RH_REDIS_URL resolves to {got!r}, the app's Redis is {want!r}")

        # Probes: ready only with Redis (/health); every HTTP probe on /health, on a declared port.
        for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(probe_name)
            if not probe:
                continue
            handler = probe.get("httpGet") or probe.get("tcpSocket") or {}
            if handler.get("port") not in set(ports) | set(ports.values()):
                errors.append(f"{what}: {probe_name} port {handler.get('port')!r} is not a declared port")
            if "httpGet" in probe and probe["httpGet"].get("path") != HEALTH_PATH:
                errors.append(f"{what}: {probe_name} must get {HEALTH_PATH}, not {probe['httpGet'].get('path')!r}")
        if "httpGet" not in (c.get("readinessProbe") or {}):
            errors.append(f"{what}: needs an HTTP readiness probe on {HEALTH_PATH}")

        # Rollouts and shutdown that do not drop clients.
        rolling = ((dep["spec"].get("strategy") or {}).get("rollingUpdate") or {})
        if rolling.get("maxUnavailable") not in (0, "0%"):
            errors.append(f"{what}: rollingUpdate.maxUnavailable must be 0 (capacity never drops)")
        sleep = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
        if not sleep:
            errors.append(f"{what}: needs a preStop sleep so the pod leaves the Service before SIGTERM")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        # preStop, then close frames (close_timeout + 1 s grace), then Redis QUIT (2 s).
        needed = (sleep or 0) + close_timeout + 1 + 2
        if grace < needed:
            errors.append(f"{what}: terminationGracePeriodSeconds {grace} < {needed} "
                          f"(preStop {sleep} s + close {close_timeout} + 1 s + QUIT 2 s)")

        # Memory limit fits the connection cap.
        cap_value = (env.get("RH_SIDECAR_MAX_CONNECTIONS") or {}).get("value", default_max_connections)
        limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
        if cap_value is None or limit is None:
            errors.append(f"{what}: needs RH_SIDECAR_MAX_CONNECTIONS and a memory limit")
        else:
            needed_bytes = int(cap_value) * SIDECAR_BYTES_PER_CONNECTION + SIDECAR_BASE_BYTES
            if quantity(limit) < needed_bytes:
                errors.append(f"{what}: memory limit {limit} is below {needed_bytes / 2**20:.0f} MiB, what "
                              f"RH_SIDECAR_MAX_CONNECTIONS={cap_value} connections need")
    return errors


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


def check_migrate(repo: Repo) -> list[str]:
    """The migrations Job runs an rh-migrate subcommand with the variables rh-migrate reads."""
    errors = []
    source = repo.source("tools/migrate/src")
    readable = set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', source))
    enum = re.search(r"enum Command \{(.*?)\n\}", source, re.S)
    commands = {re.sub(r"(?<!^)([A-Z])", r"-\1", v).lower()
                for v in re.findall(r"^\s{4}([A-Z][A-Za-z]*)\b", enum.group(1), re.M)} if enum else set()
    for where, objects in repo.renders.items():
        if not where.endswith("/migrate"):
            continue
        jobs = of_kind(objects, "Job")
        if len(jobs) != 1:
            errors.append(f"{where}: expected one Job, found {len(jobs)}")
            continue
        job = jobs[0]
        what = f"{where}: Job {name_of(job)}"
        pod = kustomize.pod_specs(job)[0]
        if pod.get("restartPolicy") != "Never":
            errors.append(f"{what}: restartPolicy must be Never (the Job's backoffLimit retries)")
        c = (pod.get("containers") or [{}])[0]
        args = c.get("args") or []
        if not args or args[0] not in commands:
            errors.append(f"{what}: args {args} do not start with an rh-migrate subcommand {sorted(commands)}")
        env = {e["name"]: e for e in c.get("env") or []}
        for name in sorted(set(env) - readable):
            errors.append(f"{what}: sets {name}, which rh-migrate does not read")
        src = env_source(env.get("RH_MIGRATE_URL", {}))
        if not src or src[0] != "secret":
            errors.append(f"{what}: RH_MIGRATE_URL must come from a Secret (it holds a password)")
    return errors


def check_images(repo: Repo) -> list[str]:
    """One release per overlay: the app, sidecar and migrate images carry the same tag,
    and each has a Dockerfile that builds it."""
    errors = []
    for overlay in repo.overlays:
        where = repo.rel(overlay)
        images = [a["spec"].get("image", "") for a in spinapps(repo.renders.get(where, []))]
        for key in (where, f"{where}/migrate"):
            images += [c.get("image", "") for _, pod in workloads(repo.renders.get(key, [])) for c in containers(pod)]
        tags = {image_tag(i) for i in images}
        if len(tags) != 1:
            errors.append(f"{where}: images of one release must share a tag: {sorted(images)}")
        for image in images:
            component = kustomize.split_image(image)[0].rsplit("/", 1)[-1]
            if component != "app" and not (repo.deploy / "docker" / f"{component}.Dockerfile").is_file():
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
        exposed = re.findall(r"^EXPOSE\s+(\d+)", final, re.M)
        if exposed and path.name == "sidecar.Dockerfile":
            for objects in repo.app_renders().values():
                ports = {p.get("containerPort") for _, pod in workloads(objects) for c in containers(pod)
                         if "sidecar" in c.get("image", "") for p in c.get("ports") or []}
                if ports and {int(e) for e in exposed} != ports:
                    errors.append(f"{where}: EXPOSE {exposed} differs from the Deployment's ports {ports}")
    return errors


CHECKS = [
    check_yaml_parses,
    check_render,
    check_schemas,
    check_spinapp,
    check_variables,
    check_references,
    check_workloads,
    check_sidecar,
    check_migrate,
    check_images,
    check_dockerfiles,
]


def check_repo(root: Path) -> list[str]:
    repo = Repo(root)
    errors = []
    for check in CHECKS:
        try:
            errors += [f"{check.__name__}: {e}" for e in check(repo)]
        except Exception as e:  # a check that crashes on a broken tree still reports it
            errors.append(f"{check.__name__}: crashed on this tree: {type(e).__name__}: {e}")
    return errors
