"""Checks of deploy/ against the code it deploys: the SpinApps against SpinKube and
their manifests (spin.toml, spin-worker.toml), Secret and ConfigMap references against the overlays and docs/deploy.md, the
sidecar Deployment against sidecar/src, the migrations Job against tools/migrate/src."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from urllib.parse import urlsplit

import yaml

import kustomize
from repo import (
    API_APP,
    APP_MANIFESTS,
    Repo,
    SPINAPP_API,
    all_refs,
    check_resources,
    config_data,
    env_source,
    find,
    image_tag,
    name_of,
    of_kind,
    quantity,
    resolve,
    resolve_env,
    secret_keys,
    spinapps,
)

SPIN_EXECUTOR = "containerd-shim-spin"
# The sidecar's health route, and the one SpinApp checks use: Spin's own, answered by the
# runtime while its HTTP trigger serves. The app's /health reports MySQL and Redis, which
# every replica shares: as a readiness check it would empty the Service in an outage.
HEALTH_PATH = "/health"
SPIN_HEALTH_PATH = "/.well-known/spin/health"
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


def check_spinapp(repo: Repo) -> list[str]:
    """Each SpinApp has what SpinKube needs and nothing it does not know; the API's
    manifest has no Redis trigger (on Spin one that loses Redis ends the process, HTTP
    with it) and the worker's no HTTP trigger."""
    errors = []
    for file, kinds in ((APP_MANIFESTS[API_APP], ("redis",)),
                        *((f, ("http",)) for n, f in APP_MANIFESTS.items() if n != API_APP)):
        if not repo.manifest(file):
            errors.append(f"{file} is missing")
        for kind in kinds:
            for t in repo.spin_triggers(file, kind):
                errors.append(f"{file}: has a {kind} trigger for {t.get('component')!r}: "
                              + ("a Redis trigger that loses its connection ends Spin's process, "
                                 "the API's routes with it: it belongs in the worker"
                                 if kind == "redis" else "the worker serves no HTTP"))
    for where, objects in repo.app_renders().items():
        apps = {name_of(a): a for a in spinapps(objects)}
        if sorted(apps) != sorted(APP_MANIFESTS) or len(apps) != len(spinapps(objects)):
            errors.append(f"{where}: expected the SpinApps {sorted(APP_MANIFESTS)}, found "
                          f"{sorted(name_of(a) for a in spinapps(objects))}")
        images = [(a.get("spec") or {}).get("image") for a in apps.values()]
        if len(set(images)) != len(images):
            errors.append(f"{where}: each SpinApp runs its own artefact (spin registry push of its manifest), "
                          f"got {images}")
        for name, app in apps.items():
            errors += check_one_spinapp(repo, where, objects, app, APP_MANIFESTS.get(name))
    return errors

def check_one_spinapp(repo: Repo, where: str, objects: list[dict], app: dict, file: str | None) -> list[str]:
    errors = []
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
    checks = spec.get("checks") or {}
    if file and repo.spin_triggers(file, "http"):
        for probe_name, probe in checks.items():
            path = ((probe or {}).get("httpGet") or {}).get("path")
            if path != SPIN_HEALTH_PATH:
                errors.append(f"{what}: {probe_name} probe must get {SPIN_HEALTH_PATH} (Spin's own; "
                              f"not a route that fails with a shared dependency), not {path!r}")
        if not checks.get("readiness"):
            errors.append(f"{what}: needs a readiness check on {SPIN_HEALTH_PATH}")
    elif checks:
        # A pod of Redis triggers alone listens on no port: any HTTP probe fails forever.
        errors.append(f"{what}: {file} serves no HTTP, so it takes no checks, got {sorted(checks)}")
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
    """Each SpinApp's variables against its manifest's [variables]; a variable both
    manifests declare is declared alike (one setting, one meaning)."""
    errors = []
    files = list(APP_MANIFESTS.values())
    for i, a in enumerate(files):
        for b in files[i + 1:]:
            va, vb = repo.spin_variables(a), repo.spin_variables(b)
            for name in sorted(set(va) & set(vb)):
                strip = lambda d: {k: v for k, v in d.items() if k != "description"}
                if strip(va[name]) != strip(vb[name]):
                    errors.append(f"variable {name} is declared differently in {a} ({va[name]}) "
                                  f"and {b} ({vb[name]})")
    for where, objects in repo.app_renders().items():
        for app in spinapps(objects):
            file = APP_MANIFESTS.get(name_of(app))
            if file is None:
                continue  # check_spinapp reports it
            errors += check_app_variables(f"{where}: SpinApp {name_of(app)}", objects, app,
                                          file, repo.spin_variables(file))
    return errors

def check_app_variables(what: str, objects: list[dict], app: dict, file: str,
                        declared: dict[str, dict]) -> list[str]:
    errors = []
    required = {n for n, v in declared.items() if v.get("required") or "default" not in v}
    secret = {n for n, v in declared.items() if v.get("secret")}
    bound: dict[str, dict] = {}
    for var in (app.get("spec") or {}).get("variables") or []:
        name = var.get("name", "")
        if name in bound:
            errors.append(f"{what}: variable {name} is bound twice")
        bound[name] = var
        if name not in declared:
            errors.append(f"{what}: variable {name} is not declared in {file}")
        if ("value" in var) == ("valueFrom" in var):
            errors.append(f"{what}: variable {name} needs exactly one of value and valueFrom")
        src = env_source(var)
        if name in secret and (src is None or src[0] != "secret"):
            errors.append(f"{what}: secret variable {name} must come from a Secret (secretKeyRef)")
        if name in required and src is not None and src[3]:
            errors.append(f"{what}: required variable {name} must not be optional")
    for name in sorted(required - set(bound)):
        errors.append(f"{what}: {file} requires variable {name}, which the SpinApp does not bind")
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

def check_trusted_proxies(repo: Repo) -> list[str]:
    """Every overlay runs the API behind an ingress, so it names the proxies whose
    X-Forwarded-For it believes: without any, every player shares one client address
    (one register/login rate limit); trusting every address lets clients pick theirs."""
    errors = []
    for where, objects in repo.app_renders().items():
        for app in spinapps(objects):
            if "trusted_proxies" not in repo.spin_variables(APP_MANIFESTS.get(name_of(app), "spin.toml")):
                continue  # the worker takes no client requests
            what = f"{where}: SpinApp {name_of(app)}"
            var = next((v for v in (app.get("spec") or {}).get("variables") or []
                        if v.get("name") == "trusted_proxies"), None)
            value = resolve(objects, var)
            if not value or not value.strip():
                errors.append(f"{what}: trusted_proxies is not set: set it to the ingress's addresses")
                continue
            for entry in (e.strip() for e in value.split(",") if e.strip()):
                try:
                    net = ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    errors.append(f"{what}: trusted_proxies entry {entry!r} is not an address or CIDR range")
                    continue
                if net.prefixlen == 0:
                    errors.append(f"{what}: trusted_proxies entry {entry!r} trusts every address")
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
        api = find(objects, "SpinApp", API_APP)
        app_vars = {v["name"]: v for v in (api["spec"].get("variables") or [])} if api else {}
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
