"""The metrics the code emits, and the dashboard and alarms that read them (issue 11 item 1)."""

from __future__ import annotations

import json
import re

import yaml

from tiktok_sync.pipeline import metrics as run_metrics
from tiktok_sync.pipeline.metrics import RUN_METRICS, TOKEN_METRICS, emit_run_metrics


class Captured:
    def __init__(self):
        self.names, self.dimensions = [], {}

    def clear_metrics(self):
        self.names.clear()

    def add_dimension(self, name, value):
        self.dimensions[name] = value

    def add_metric(self, name, unit, value):
        self.names.append(name)


def _tag(loader, suffix, node):
    """CloudFormation's short tags (!Sub, !Ref, …) read as their plain value."""
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", _tag)


def template(root) -> dict:
    return yaml.load((root / "template.yaml").read_text(), Loader=_Loader)


def test_a_run_emits_what_the_readme_lists(monkeypatch):
    singles = []

    class Single:
        def __init__(self, name, **kw):
            singles.append(name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def set_timestamp(self, ts):
            assert ts > 1_700_000_000_000  # milliseconds

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setattr(run_metrics, "single_metric", lambda name, **kw: Single(name))
    m = Captured()
    report = {"destination": "vip", "status": "SUCCEEDED",
              "rows": {"read": 10, "sent": 8, "rejected": 2, "skipped": 0, "failed": 0},
              "api": {"requests": 3, "retries": 1, "rate_limited": 1, "resent": 0},
              "timeline": [[0, 5], [60, 3]], "timeline_start": 1_764_000_000}
    emit_run_metrics(m, report)
    emitted = set(m.names) | set(singles)
    assert m.dimensions == {"destination": "vip"}
    assert emitted <= set(RUN_METRICS)
    assert {"RowsRead", "RunSucceeded", "ApiRateLimited", "RunRejectedPercent", "RowsDelivered"} <= emitted
    assert singles.count("RowsDelivered") == 2


def test_dashboard_and_alarms_name_only_emitted_metrics(root):
    resources = template(root)["Resources"]
    dashboard = resources["Dashboard"]["Properties"]["DashboardBody"]
    body = dashboard[0] if isinstance(dashboard, list) else dashboard
    body = re.sub(r"\$\{[^}]+\}", "1", body)
    widgets = json.loads(body)["widgets"]
    named = set()
    for widget in widgets:
        for line in widget["properties"]["metrics"]:
            for part in line:
                if isinstance(part, dict) and "expression" in part:
                    named |= set(re.findall(r'MetricName=\\?"(\w+)', part["expression"]))
                elif isinstance(part, str) and part not in ("TikTokSync", "service", "tiktok-sync"):
                    named.add(part)
    known = set(RUN_METRICS) | set(TOKEN_METRICS)
    assert named and named <= known, named - known
    for name, res in resources.items():
        props = res.get("Properties", {})
        if res.get("Type") == "AWS::CloudWatch::Alarm" and props.get("Namespace") == "TikTokSync":
            assert props["MetricName"] in known, name
            # Powertools puts service=tiktok-sync on every metric: an alarm without it watches nothing
            assert {"Name": "service", "Value": "tiktok-sync"} in props.get("Dimensions", []), name
