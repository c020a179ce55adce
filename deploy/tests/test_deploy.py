"""Offline checks of the deployment files (no container engine here): the compose stack is
complete, what it mounts exists, Prometheus scrapes services that exist, and the dashboard and
alert rules only use metrics the service exposes (docs/operations.md).

Run by `just deploy-check` (deploy/check.sh) with PyYAML from .state/deploy-venv.
"""

import json
import re
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"


def compose():
    return yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())


def exposed_metrics():
    """Metric names of the table in docs/operations.md (histograms add _bucket/_count/_sum)."""
    text = (ROOT / "docs" / "operations.md").read_text()
    names = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    for name in list(names):
        names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def metric_names(expr):
    words = set(re.findall(r"\b([a-z][a-z0-9_]*)\b(?=\s*[{\[)]|\s*$|\s*[<>=!*/+-])", expr))
    return {w for w in words if "_" in w and not w.startswith(("sum", "rate", "histogram"))}


PROMQL_WORDS = {"histogram_quantile", "by", "offset", "and", "on", "ignoring", "le"}


class ComposeTest(unittest.TestCase):
    def test_every_service_has_an_image_or_build_a_health_check_ports_and_environment(self):
        services = compose()["services"]
        for wanted in ["api", "worker", "migrate", "postgres", "redis", "rabbitmq", "simulator",
                       "otel-collector", "prometheus", "grafana"]:
            self.assertIn(wanted, services)
        for name, service in services.items():
            with self.subTest(service=name):
                self.assertTrue("image" in service or "build" in service, "image or build")
                self.assertIn("healthcheck", service)
                self.assertIn("ports", service)
                self.assertTrue("environment" in service or name in {"redis"},
                                "environment (or none needed)")

    def test_every_mounted_file_exists(self):
        for name, service in compose()["services"].items():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith("."):
                    with self.subTest(service=name, volume=source):
                        self.assertTrue((COMPOSE_DIR / source).exists(), source)

    def test_built_images_build_targets_of_the_dockerfile(self):
        dockerfile = (ROOT / "Dockerfile").read_text()
        targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.MULTILINE))
        for name, service in compose()["services"].items():
            build = service.get("build")
            if build:
                with self.subTest(service=name):
                    self.assertIn(build["target"], targets)

    def test_prometheus_scrapes_services_of_the_stack(self):
        services = compose()["services"]
        config = yaml.safe_load((COMPOSE_DIR / "prometheus" / "prometheus.yml").read_text())
        targets = [t for job in config["scrape_configs"] for group in job["static_configs"]
                   for t in group["targets"]]
        self.assertTrue(targets)
        for target in targets:
            host, port = target.split(":")
            self.assertIn(host, services)
            self.assertEqual(port, "3004")


class MetricsUseTest(unittest.TestCase):
    def check(self, exprs):
        known = exposed_metrics()
        for expr in exprs:
            for name in metric_names(expr) - PROMQL_WORDS:
                with self.subTest(expr=expr):
                    self.assertIn(name, known, f"{name} is not in docs/operations.md")

    def test_the_dashboard_shows_only_exposed_metrics(self):
        dashboard = json.loads((COMPOSE_DIR / "grafana" / "dashboards" / "order-service.json").read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        self.assertGreaterEqual(len(exprs), 10)
        self.check(exprs)

    def test_the_alert_rules_use_only_exposed_metrics(self):
        rules = yaml.safe_load((ROOT / "deploy" / "alerts" / "order-service.rules.yml").read_text())
        self.check([r["expr"] for g in rules["groups"] for r in g["rules"]])


if __name__ == "__main__":
    unittest.main()
