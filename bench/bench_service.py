"""Handler import time and warm /health latency, against the naive baseline, in one run.

    .venv/bin/python bench/bench_service.py [--runs 15] [--requests 300]

Writes the `service` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.report import write_section  # noqa: E402
from tests.support.moto_server import running_moto_server  # noqa: E402

EVENT = REPO / "tests" / "unit" / "events" / "apigw_v2_health.json"
SUBJECTS = {"handler": REPO / "service", "naive_handler": REPO / "bench"}
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "DATABASE_TABLE": "items",
}

IMPORT_PROBE = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)
REQUEST_PROBE = """
import json, statistics, sys, time
event = json.loads(open(sys.argv[1]).read())
class Context: aws_request_id = "bench"
started = time.perf_counter()
import {module} as subject
imported = time.perf_counter()
assert subject.lambda_handler(event, Context())["statusCode"] == 200
first = time.perf_counter()
samples = []
for _ in range({requests}):
    start = time.perf_counter()
    subject.lambda_handler(event, Context())
    samples.append(time.perf_counter() - start)
print(json.dumps({{"first": first - imported, "cold": first - started,
                  "median": statistics.median(samples),
                  "p95": statistics.quantiles(samples, n=20)[-1]}}))
"""


def run_probe(module: str, code: str, *args: str) -> str:
    env = {**os.environ, **ENV, "PYTHONPATH": str(SUBJECTS[module])}
    env.pop("AWS_CA_BUNDLE", None)
    result = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def import_times(runs: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in SUBJECTS}
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        for module in SUBJECTS:
            samples[module].append(float(run_probe(module, IMPORT_PROBE.format(module=module))))
    return samples


def requests_through_handler(module: str, requests: int) -> dict[str, float]:
    return json.loads(
        run_probe(module, REQUEST_PROBE.format(module=module, requests=requests), str(EVENT))
    )


def create_table(endpoint: str) -> None:
    import boto3

    boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    ).create_table(
        TableName="items",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "source_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "source_id", "AttributeType": "S"}],
    )


def cold_and_warm(runs: int, requests: int) -> dict[str, dict[str, float]]:
    """Medians over `runs` fresh processes per subject, interleaved like the import probe."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in SUBJECTS}
    for _ in range(runs):
        for module in SUBJECTS:
            samples[module].append(requests_through_handler(module, requests))
    return {
        module: {key: statistics.median(run[key] for run in runs_) for key in runs_[0]}
        for module, runs_ in samples.items()
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def render(
    imports: dict[str, list[float]], latency: dict[str, dict[str, float]], runs: int, requests: int
) -> str:
    ours, naive = (statistics.median(imports[m]) for m in ("handler", "naive_handler"))
    lines = [
        "## Service: import time and warm latency",
        "",
        f"`.venv/bin/python bench/bench_service.py --runs {runs} --requests {requests}` on "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}. Baseline: `bench/naive_handler.py` (eager imports and "
        "clients), measured interleaved in the same run; every figure is the median over "
        f"{runs} fresh processes. Goal: import <= 50% of the baseline.",
        "",
        "| measure | handler | naive baseline | ratio |",
        "| --- | --- | --- | --- |",
        f"| import, median of {runs} fresh processes | {ms(ours)} | {ms(naive)} | "
        f"{ours / naive:.2f} |",
    ]
    for key, label in (
        ("first", "first /health after import"),
        ("median", f"warm /health, median of {requests}"),
        ("p95", f"warm /health, p95 of {requests}"),
    ):
        a, b = latency["handler"][key], latency["naive_handler"][key]
        lines.append(f"| {label} | {ms(a)} | {ms(b)} | {a / b:.2f} |")
    cold_ours, cold_naive = latency["handler"]["cold"], latency["naive_handler"]["cold"]
    lines += [
        f"| import + first /health in one process | {ms(cold_ours)} | {ms(cold_naive)} | "
        f"{cold_ours / cold_naive:.2f} |",
        "",
        "Storage is a moto server on 127.0.0.1 (DescribeTable over HTTP), so latency is the "
        "service's own overhead plus a loopback round trip. "
        "The handler defers `import boto3` and client creation to the first request that needs "
        "AWS; the last row shows how much of the saving is a real cold-start saving rather than "
        "work moved to the first request.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logs, running_moto_server(Path(logs)) as moto:
        ENV["AWS_ENDPOINT_URL"] = moto.endpoint
        create_table(moto.endpoint)
        imports = import_times(args.runs)
        latency = cold_and_warm(args.runs, args.requests)
    text = render(imports, latency, args.runs, args.requests)
    write_section("service", text)
    print(text)


if __name__ == "__main__":
    main()
