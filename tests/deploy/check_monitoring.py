"""Checks of deploy/monitoring (Prometheus Operator objects, alerts, Grafana dashboard)
against the code that exports the series and the docs that explain the alerts.

- it renders, and holds the ServiceMonitor, PodMonitor, PrometheusRule and dashboard;
- every series a rule or a panel reads is one the code exports (rh-runtime's
  OpenTelemetry instruments as the Prometheus exporter names them, the sidecar's
  registry, the business exposition), so a renamed metric cannot leave a silent alert;
- every alert has a severity and a runbook link to a section of docs/operations.md;
- the PodMonitor scrapes a port the sidecar Deployment declares and listens on, and the
  ServiceMonitor sends the Secret key the API's SpinApp passes as `metrics_token`, to a
  route spin.toml serves;
- `promtool check rules` and `promtool test rules` (tests/alerts.test.yaml) pass.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

import kustomize
from repo import API_APP, Repo, containers, of_kind, spinapps, workloads

MONITORING = "deploy/monitoring"
# OpenTelemetry instruments in rh-runtime: the Prometheus exporter appends `_total` to
# counters and the unit (all ours are seconds) to histograms.
OTEL_SOURCES = ["runtime/src/telemetry/instruments.rs", "runtime/host/src/observe.rs"]
# Names written out in full (the prometheus crate's registry, the business exposition).
PLAIN_SOURCES = ["sidecar/src/metrics.rs", "crates/app/src/metrics/mod.rs"]
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
SERIES = re.compile(r"\brh_[a-z0-9_]+")


def read(repo: Repo, rel: str) -> str:
    path = repo.root / rel
    return path.read_text() if path.is_file() else ""


def exported_metrics(repo: Repo) -> set[str]:
    names: set[str] = set()
    for rel in OTEL_SOURCES:
        for kind, name in re.findall(r"\.(u64_counter|f64_histogram|i64_up_down_counter|[uif]64_gauge)\(\"(rh_[a-z0-9_]+)\"\)",
                                     read(repo, rel)):
            names.add(name + {"u64_counter": "_total", "f64_histogram": "_seconds"}.get(kind, ""))
    for rel in PLAIN_SOURCES:
        names.update(re.findall(r"\"(rh_[a-z0-9_]+)\"", read(repo, rel)))
    return names


def is_exported(series: str, exported: set[str]) -> bool:
    if series in exported:
        return True
    return any(series.endswith(s) and series[: -len(s)] in exported for s in HISTOGRAM_SUFFIXES)


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def check_monitoring(repo: Repo) -> list[str]:
    """deploy/monitoring: renders, reads only exported series, documents each alert, scrapes what the code serves."""
    where = MONITORING
    try:
        objects = kustomize.render(repo.root / MONITORING)
    except (kustomize.KustomizeError, yaml.YAMLError, OSError) as e:
        return [f"{where}: does not render: {e}"]
    errors: list[str] = []
    by_kind = {kind: of_kind(objects, kind) for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap")}
    for kind, found in by_kind.items():
        if not found:
            errors.append(f"{where}: expected a {kind}")
    if errors:
        return errors

    exprs: list[tuple[str, str]] = []
    alerts = []
    for rule_obj in by_kind["PrometheusRule"]:
        for group in (rule_obj.get("spec") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                exprs.append((f"rule {rule.get('alert') or rule.get('record')}", str(rule.get("expr", ""))))
                if "alert" in rule:
                    alerts.append(rule)
    for cm in by_kind["ConfigMap"]:
        for key, text in (cm.get("data") or {}).items():
            try:
                dashboard = json.loads(text)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: dashboard {key} is not JSON: {e}")
                continue
            panels = [p for p in dashboard.get("panels") or [] if p.get("type") != "row"]
            if not panels:
                errors.append(f"{where}: dashboard {key} has no panels")
            for panel in panels:
                for target in panel.get("targets") or []:
                    exprs.append((f"dashboard panel {panel.get('title')!r}", str(target.get("expr", ""))))

    exported = exported_metrics(repo)
    for what, expr in exprs:
        for series in sorted(set(SERIES.findall(expr))):
            if not is_exported(series, exported):
                errors.append(f"{where}: {what} reads {series}, which no exporter in the code defines")

    docs = read(repo, "docs/operations.md")
    anchors = {anchor(m) for m in re.findall(r"^#+\s+(.+)$", docs, re.M)}
    for rule in alerts:
        name = rule["alert"]
        if not (rule.get("labels") or {}).get("severity"):
            errors.append(f"{where}: alert {name} has no severity label")
        runbook = (rule.get("annotations") or {}).get("runbook", "")
        m = re.fullmatch(r"docs/operations\.md#([\w-]+)", runbook)
        if not m:
            errors.append(f"{where}: alert {name} needs a runbook annotation docs/operations.md#<section>")
        elif m.group(1) not in anchors:
            errors.append(f"{where}: alert {name}'s runbook section #{m.group(1)} is not in docs/operations.md")

    errors += check_scrape_targets(repo, by_kind["PodMonitor"], by_kind["ServiceMonitor"])
    errors += promtool(by_kind["PrometheusRule"], repo.root / MONITORING / "tests")
    return errors


def check_scrape_targets(repo: Repo, pod_monitors: list[dict], service_monitors: list[dict]) -> list[str]:
    errors: list[str] = []
    for overlay, objects in repo.app_renders().items():
        for pm in pod_monitors:
            selector = ((pm.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            pods = [(w, pod) for w, pod in workloads(objects) if selector.items() <= pod_labels(w).items()]
            if not pods:
                errors.append(f"{overlay}: PodMonitor {pm['metadata']['name']} selects no pod")
            for endpoint in (pm.get("spec") or {}).get("podMetricsEndpoints") or []:
                for w, pod in pods:
                    errors += check_metrics_port(overlay, w, pod, endpoint.get("port"))
        apps = [a for a in spinapps(objects) if a["metadata"]["name"] == API_APP]
        for sm in service_monitors:
            for endpoint in (sm.get("spec") or {}).get("endpoints") or []:
                if endpoint.get("path") not in repo.spin_routes():
                    errors.append(f"{overlay}: ServiceMonitor scrapes {endpoint.get('path')}, a route spin.toml does not serve")
                cred = ((endpoint.get("authorization") or {}).get("credentials")) or {}
                for app in apps:
                    var = next((v for v in (app.get("spec") or {}).get("variables") or []
                                if v.get("name") == "metrics_token"), None)
                    ref = ((var or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
                    if (ref.get("name"), ref.get("key")) != (cred.get("name"), cred.get("key")):
                        errors.append(f"{overlay}: ServiceMonitor sends Secret {cred.get('name')}/{cred.get('key')}, "
                                      f"but SpinApp {API_APP} takes metrics_token from {ref.get('name')}/{ref.get('key')}")
    return errors


def pod_labels(workload: dict) -> dict:
    """The labels of a workload's pods (its pod template's)."""
    template = (workload.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


def check_metrics_port(overlay: str, workload: dict, pod: dict, port_name: str | None) -> list[str]:
    name = workload["metadata"]["name"]
    for c in containers(pod):
        port = next((p for p in c.get("ports") or [] if p.get("name") == port_name), None)
        if port is None:
            continue
        env = {e.get("name"): e.get("value") for e in c.get("env") or []}
        listen = env.get("RH_SIDECAR_METRICS_LISTEN") or ""
        host, _, number = listen.rpartition(":")
        if number != str(port.get("containerPort")):
            return [f"{overlay}: {name} declares port {port_name} as {port.get('containerPort')} "
                    f"but RH_SIDECAR_METRICS_LISTEN is {listen!r}"]
        if host.startswith("127.") or host in ("localhost", "[::1]"):
            return [f"{overlay}: {name}'s RH_SIDECAR_METRICS_LISTEN {listen} is loopback: Prometheus cannot reach it"]
        return []
    return [f"{overlay}: {name} declares no port {port_name!r} for its PodMonitor"]


def promtool(rules: list[dict], tests: Path) -> list[str]:
    binary = shutil.which("promtool")
    if binary is None:
        return ["promtool not found: scripts/check-deploy installs Debian's prometheus package"]
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        rules_file = Path(tmp) / "rules.yaml"
        groups = [g for r in rules for g in (r.get("spec") or {}).get("groups") or []]
        rules_file.write_text(yaml.safe_dump({"groups": groups}))
        runs = [[binary, "check", "rules", str(rules_file)]]
        for test in sorted(tests.glob("*.test.yaml")):
            shutil.copy(test, Path(tmp) / test.name)
            runs.append([binary, "test", "rules", str(Path(tmp) / test.name)])
        if len(runs) == 1:
            errors.append(f"{MONITORING}/tests: no *.test.yaml for promtool test rules")
        for run in runs:
            done = subprocess.run(run, capture_output=True, text=True, cwd=tmp)
            if done.returncode != 0:
                errors.append(f"{' '.join(run[1:3])} failed:\n{done.stdout}{done.stderr}")
    return errors
