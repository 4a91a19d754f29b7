"""deploy/ checks: every check passes on this repository, and each one fails on a copy
broken the way a real mistake would break it (so none of them passes vacuously).

Run through ./scripts/check-deploy (which ./scripts/test calls).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import yaml

import checks
import kustomize

ROOT = Path(__file__).resolve().parents[2]
# What the checks read: a broken copy needs these and nothing else.
COPIED = ["deploy", "spin.toml", "spin-worker.toml", "sidecar/src", "tools/migrate/src", "docs/deploy.md",
          "docs/operations.md", "runtime/src/telemetry", "runtime/host/src/observe.rs", "crates/app/src/metrics"]


class RealTree(unittest.TestCase):
    """Each check on the repository as it is."""

    @classmethod
    def setUpClass(cls):
        cls.repo = checks.Repo(ROOT)


def _real_tree_test(check):
    def test(self):
        errors = check(self.repo)
        self.assertEqual(errors, [], "\n" + "\n".join(errors))

    test.__doc__ = check.__doc__
    return test


for _check in checks.CHECKS:
    setattr(RealTree, f"test_{_check.__name__}", _real_tree_test(_check))


@unittest.skipUnless(shutil.which("kubectl"), "kubectl not on PATH: overlays rendered by tests/deploy/kustomize.py only")
class RealKustomizeAgrees(unittest.TestCase):
    """kubectl's built-in kustomize renders every overlay to the same objects as ours."""

    def test_same_objects(self):
        repo = checks.Repo(ROOT)
        for where, ours in repo.renders.items():
            with self.subTest(overlay=where):
                out = subprocess.run(["kubectl", "kustomize", str(ROOT / where)],
                                     check=True, capture_output=True, text=True).stdout
                theirs = [d for d in yaml.safe_load_all(out) if d]
                by_id = lambda objs: {kustomize.object_id(o): o for o in objs}  # noqa: E731
                self.assertEqual(by_id(ours), by_id(theirs))


class BrokenCopies(unittest.TestCase):
    """Each mutation must make check_repo report a problem containing `expect`."""

    def broken(self, path: str, old: str, new: str, expect: str):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for rel in COPIED:
                src, dst = ROOT / rel, root / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
            target = root / path
            text = target.read_text()
            self.assertIn(old, text, f"mutation no longer applies to {path}")
            target.write_text(text.replace(old, new, 1))
            errors = checks.check_repo(root)
        self.assertTrue(any(expect in e for e in errors),
                        f"expected a problem containing {expect!r}, got:\n" + "\n".join(errors))

    def test_a_yaml_syntax_error_is_reported(self):
        self.broken("deploy/base/sidecar-service.yaml", "  ports:\n", "  ports: [\n", "does not parse")

    def test_an_unknown_field_fails_the_strict_schema(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "  minReadySeconds: 5\n",
                    "  minReadySeconds: 5\n  minReadySecond: 5\n", "invalid at")

    def test_a_wrongly_typed_field_fails_the_schema(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "containerPort: 8001", 'containerPort: "8001"',
                    "invalid at spec.template.spec.containers.0.ports.0.containerPort")

    def test_an_unsupported_kustomize_feature_is_refused(self):
        self.broken("deploy/overlays/production/kustomization.yaml", "namespace: rankedhonor\n",
                    "namespace: rankedhonor\ncommonLabels: {team: games}\n", "unsupported kustomization field")

    def test_a_patch_without_target_is_refused(self):
        self.broken("deploy/overlays/production/sidecar-hpa.yaml", "name: rankedhonor-sidecar",
                    "name: rankedhonor-sidekick", "matches 0 objects")

    def test_a_variable_spin_toml_does_not_declare_is_refused(self):
        self.broken("deploy/base/spinapp.yaml", "- name: team_size_cap", "- name: team_size_limit",
                    "variable team_size_limit is not declared in spin.toml")

    def test_a_redis_trigger_in_the_apis_manifest_is_refused(self):
        self.broken("spin.toml", "[[trigger.http]]\n",
                    '[[trigger.redis]]\nchannel = "feed"\ncomponent = "auth"\n\n[[trigger.http]]\n',
                    "it belongs in the worker")

    def test_an_http_trigger_in_the_workers_manifest_is_refused(self):
        self.broken("spin-worker.toml", "[[trigger.redis]]\n",
                    '[[trigger.http]]\nroute = "/tick"\ncomponent = "queue-tick"\n\n[[trigger.redis]]\n',
                    "the worker serves no HTTP")

    def test_a_variable_declared_differently_in_the_two_manifests_is_refused(self):
        self.broken("spin-worker.toml", 'regions = { default = "na,eu,sa,asia,oce"',
                    'regions = { default = "na,eu"', "variable regions is declared differently")

    def test_a_worker_variable_its_manifest_does_not_declare_is_refused(self):
        self.broken("deploy/base/spinapp-worker.yaml", "- name: regions", "- name: region",
                    "variable region is not declared in spin-worker.toml")

    def test_a_missing_worker_variable_is_reported(self):
        self.broken("deploy/base/spinapp-worker.yaml", "    - name: integration_key\n",
                    "    - name: integration_kee\n", "spin-worker.toml requires variable integration_key")

    def test_an_http_check_on_the_worker_is_refused(self):
        self.broken("deploy/base/spinapp-worker.yaml", "  resources:\n",
                    "  checks:\n    readiness:\n      httpGet:\n        path: /.well-known/spin/health\n"
                    "  resources:\n", "serves no HTTP, so it takes no checks")

    def test_a_missing_worker_spinapp_is_reported(self):
        self.broken("deploy/base/kustomization.yaml", "  - spinapp-worker.yaml\n", "",
                    "expected the SpinApps")

    def test_the_worker_on_the_apis_artefact_is_refused(self):
        self.broken("deploy/overlays/production/spinapp-worker.yaml", "rankedhonor/worker:", "rankedhonor/app:",
                    "each SpinApp runs its own artefact")

    def test_a_missing_required_variable_is_reported(self):
        self.broken("deploy/base/spinapp.yaml", "    - name: game_server_key\n", "    - name: game_server_kee\n",
                    "requires variable game_server_key")

    def test_a_new_required_variable_in_spin_toml_is_reported(self):
        self.broken("spin.toml", "[variables]\n",
                    '[variables]\nanticheat_key = { required = true, secret = true }\n',
                    "requires variable anticheat_key")

    def test_a_secret_variable_from_a_configmap_is_refused(self):
        self.broken("deploy/base/spinapp.yaml",
                    "secretKeyRef: { name: rankedhonor-secrets, key: db_password }",
                    "configMapKeyRef: { name: rankedhonor-config, key: db_host }",
                    "secret variable db_password must come from a Secret")

    def test_an_overlay_without_trusted_proxies_is_reported(self):
        self.broken("deploy/overlays/local/configmap.yaml", '  trusted_proxies: "10.42.0.0/16"\n', "",
                    "trusted_proxies is not set")

    def test_trusting_every_address_is_refused(self):
        self.broken("deploy/overlays/production/configmap.yaml", '"10.0.0.0/16"', '"10.0.0.0/16, 0.0.0.0/0"',
                    "trusts every address")

    def test_a_malformed_trusted_proxy_is_refused(self):
        self.broken("deploy/overlays/production/configmap.yaml", '"10.0.0.0/16"', '"10.0.0.0/33"',
                    "is not an address or CIDR range")

    def test_a_missing_configmap_key_is_reported(self):
        self.broken("deploy/base/configmap.yaml", '  redis_db: "0"\n', "", "configMapKeyRef rankedhonor-config/redis_db")

    def test_an_origin_that_does_not_match_its_url_is_reported(self):
        self.broken("deploy/base/spinapp.yaml", "    - name: team_size_cap\n",
                    "    - name: twitch_token_url\n      value: https://id.twitch.example/token\n"
                    "    - name: team_size_cap\n",
                    "twitch_token_origin")

    def test_a_secret_key_docs_do_not_create_is_reported(self):
        self.broken("docs/deploy.md", "--from-literal=game_server_key=", "--from-literal=game_server=",
                    "key game_server_key is neither in the overlay nor created by docs/deploy.md")

    def test_a_runtime_config_file_docs_do_not_have_is_reported(self):
        self.broken("docs/deploy.md", "=deploy/overlays/production/runtime-config.toml",
                    "=deploy/overlays/production/runtime.toml", "must hold exactly the key runtime-config.toml")

    def test_a_committed_production_secret_is_refused(self):
        self.broken("deploy/overlays/production/kustomization.yaml", "  - app-hpa.yaml\n",
                    "  - app-hpa.yaml\n  - ../local/secrets.yaml\n", "production Secrets are created, never committed")

    def test_replicas_with_autoscaling_is_refused(self):
        self.broken("deploy/overlays/production/spinapp.yaml", "replicas: null", "replicas: 3",
                    "replicas must be unset when enableAutoscaling is true")

    def test_an_app_probe_off_health_is_refused(self):
        self.broken("deploy/base/spinapp.yaml", "path: /.well-known/spin/health", "path: /health",
                    "must get /.well-known/spin/health")

    def test_a_sidecar_probe_off_health_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "path: /health", "path: /", "must get /health")

    def test_an_env_var_the_sidecar_does_not_read_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "- name: RUST_LOG", "- name: RH_LOG_LEVEL",
                    "sets RH_LOG_LEVEL, which rh-sidecar does not read")

    def test_a_renamed_sidecar_flag_is_noticed(self):
        self.broken("sidecar/src/main.rs", 'env = "RH_REDIS_URL"', 'env = "RH_REDIS_ADDRESS"',
                    "sets RH_REDIS_URL, which rh-sidecar does not read")

    def test_a_sidecar_on_another_redis_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "key: redis_db }", "key: db_name }",
                    "RH_REDIS_URL resolves to")

    def test_an_env_reference_before_its_definition_is_refused(self):
        self.broken("deploy/overlays/production/sidecar.yaml", "            - name: RH_SIDECAR_MAX_CONNECTIONS\n",
                    '            - name: RH_REDIS_URL\n              value: "redis://$(RH_CONFIG_REDIS_HOST)/0"\n'
                    "            - name: RH_SIDECAR_MAX_CONNECTIONS\n",
                    "uses $(RH_CONFIG_REDIS_HOST), which no earlier env entry defines")

    def test_a_sidecar_with_another_jwt_key_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "key: jwt_secret }", "key: game_server_key }",
                    "same Secret key as the app's jwt_secret")

    def test_a_loopback_listen_address_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", '"0.0.0.0:8001"', '"127.0.0.1:8001"',
                    "RH_SIDECAR_LISTEN")

    def test_a_rollout_that_drops_capacity_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "maxUnavailable: 0", "maxUnavailable: 1",
                    "maxUnavailable must be 0")

    def test_a_grace_period_shorter_than_the_shutdown_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "terminationGracePeriodSeconds: 30",
                    "terminationGracePeriodSeconds: 12", "terminationGracePeriodSeconds 12 < 18")

    def test_a_longer_close_timeout_in_code_is_noticed(self):
        self.broken("sidecar/src/config.rs", "close_timeout: Duration::from_secs(5)",
                    "close_timeout: Duration::from_secs(25)", "terminationGracePeriodSeconds 30 < 38")

    def test_a_memory_limit_below_the_connection_cap_is_refused(self):
        self.broken("deploy/overlays/production/sidecar.yaml", 'value: "40000"', 'value: "60000"',
                    "RH_SIDECAR_MAX_CONNECTIONS=60000")

    def test_a_root_container_is_refused(self):
        self.broken("deploy/migrate/job.yaml", "runAsNonRoot: true", "runAsNonRoot: false", "non-root")

    def test_a_writable_root_filesystem_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "readOnlyRootFilesystem: true",
                    "readOnlyRootFilesystem: false", "readOnlyRootFilesystem must be true")

    def test_missing_resource_limits_are_reported(self):
        self.broken("deploy/migrate/job.yaml", "              memory: 256Mi\n", "",
                    "resources.limits.memory is not set")

    def test_a_service_on_an_undeclared_port_is_refused(self):
        self.broken("deploy/base/sidecar-service.yaml", "targetPort: ws", "targetPort: websocket",
                    "targets port 'websocket'")

    def test_an_hpa_and_replicas_on_one_deployment_are_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", "  minReadySeconds: 5\n",
                    "  minReadySeconds: 5\n  replicas: 2\n", "owns the count")

    def test_a_migrate_job_with_an_unknown_subcommand_is_refused(self):
        self.broken("deploy/migrate/job.yaml", 'args: ["run"]', 'args: ["migrate"]', "rh-migrate subcommand")

    def test_mismatched_release_tags_are_refused(self):
        self.broken("deploy/overlays/production/migrate/kustomization.yaml", "newTag: 0.1.0", "newTag: 0.2.0",
                    "must share a tag")

    def test_a_dockerfile_running_as_root_is_refused(self):
        self.broken("deploy/docker/sidecar.Dockerfile", "USER 10001:10001", "USER 0", "non-root numeric uid")

    def test_an_unpinned_base_image_is_refused(self):
        self.broken("deploy/docker/migrate.Dockerfile", "FROM debian:bookworm-slim", "FROM debian",
                    "must be pinned")

    def test_an_alert_on_a_series_nobody_exports_is_reported(self):
        self.broken("deploy/monitoring/prometheusrule.yaml", "sum(rate(rh_admission_rejected_total[5m])) > 1",
                    "sum(rate(rh_admission_refused_total[5m])) > 1", "reads rh_admission_refused_total")

    def test_a_renamed_instrument_in_the_code_is_noticed(self):
        self.broken("runtime/src/telemetry/instruments.rs", '.u64_counter("rh_admission_rejected")',
                    '.u64_counter("rh_admission_refused")', "reads rh_admission_rejected_total")

    def test_a_panel_on_a_missing_business_series_is_reported(self):
        self.broken("crates/app/src/metrics/mod.rs", '"rh_queue_depth"', '"rh_queue_length"',
                    "reads rh_queue_depth")

    def test_an_alert_without_a_runbook_section_is_reported(self):
        self.broken("docs/operations.md", "### RankedHonorFanoutLag", "### Fan-out lag",
                    "runbook section #rankedhonorfanoutlag")

    def test_a_sidecar_metrics_port_it_does_not_listen_on_is_refused(self):
        self.broken("deploy/base/sidecar-deployment.yaml", 'value: "0.0.0.0:9465"', 'value: "0.0.0.0:9999"',
                    "RH_SIDECAR_METRICS_LISTEN is '0.0.0.0:9999'")

    def test_a_scrape_with_another_secret_than_the_apps_is_refused(self):
        self.broken("deploy/monitoring/servicemonitor-app.yaml", "key: metrics_token", "key: jwt_secret",
                    "takes metrics_token from rankedhonor-secrets/metrics_token")

    def test_an_alert_that_no_longer_fires_fails_promtool(self):
        self.broken("deploy/monitoring/prometheusrule.yaml", "rh_queue_oldest_wait_seconds) > 300",
                    "rh_queue_oldest_wait_seconds) > 3000", "test rules failed")


if __name__ == "__main__":
    unittest.main()
