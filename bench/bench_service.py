"""Cold start of the handler in one process, against the naive baseline, in one run.

    .venv/bin/python bench/bench_service.py [--runs 15] [--requests 300] [--before main]

Every subject runs in fresh processes, interleaved, with its bytecode already compiled (the image
ships bytecode; a cache under .tmp/ stands in for it here). Beside the service and the naive
baseline, two floors: the least any FastAPI + Mangum + botocore Lambda does (`floor_handler`), and
botocore with no web framework at all (`botocore_only_handler`). `--before REF` adds the service as
it was at git REF, exported to a temporary directory. Writes the `service` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "service")]
import trim_botocore_data  # noqa: E402
from bench.report import write_section  # noqa: E402
from dashboard.aws_services import SERVICES as AWS_SERVICES  # noqa: E402
from tests.support.moto_server import running_moto_server  # noqa: E402

EVENT = REPO / "tests" / "unit" / "events" / "apigw_v2_health.json"
PYCACHE = REPO / ".tmp" / "bench-pycache"
SERVICE, NAIVE, BEFORE = "handler", "naive_handler", "before"
FLOOR, BOTOCORE_ONLY = "floor_handler", "botocore_only_handler"
MODULES = {
    SERVICE: "handler",
    NAIVE: "naive_handler",
    BEFORE: "handler",
    FLOOR: "floor_handler",
    BOTOCORE_ONLY: "botocore_only_handler",
}
NAMES = {
    SERVICE: "handler",
    FLOOR: "FastAPI floor",
    BOTOCORE_ONLY: "botocore alone",
    NAIVE: "naive baseline",
}
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "DATABASE_TABLE": "items",
    "PYTHONPYCACHEPREFIX": str(PYCACHE),
}
PROFILE_RUNS = 5
IMPORT_GOAL, COLD_GOAL = 0.5, 0.6

IMPORT_PROBE = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)
REQUEST_PROBE = """
import json, resource, statistics, sys, time
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
                  "p95": statistics.quantiles(samples, n=20)[-1],
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
# The first /health in phases: the handler's import, botocore's import, making the DynamoDB
# client (botocore loading its data files), then the request itself (DescribeTable plus the
# framework's first request).
PHASE_PROBE = """
import json, sys, time
event = json.loads(open(sys.argv[1]).read())
class Context: aws_request_id = "bench"
t0 = time.perf_counter()
import {module} as subject
t1 = time.perf_counter()
import botocore.config, botocore.session
t2 = time.perf_counter()
from dashboard import aws
aws.client("dynamodb")
t3 = time.perf_counter()
assert subject.lambda_handler(event, Context())["statusCode"] == 200
t4 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "botocore": t2 - t1, "client": t3 - t2,
                  "request": t4 - t3}}))
"""
PHASES = {
    "import": "import of the handler",
    "botocore": "import of botocore",
    "client": "DynamoDB client (botocore loads its data files)",
    "request": "request (DescribeTable and the framework's first request)",
}
# What the import-time profile's top-level packages are grouped into.
GROUPS = {
    "FastAPI, Starlette, pydantic, anyio": {
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "annotated_doc",
        "typing_inspection",
        "opentelemetry",
        "anyio",
        "sniffio",
        "idna",
    },
    "msgspec": {"msgspec"},
    "typing_extensions (msgspec, pydantic and Mangum import it)": {"typing_extensions"},
    "botocore, urllib3, dateutil, jmespath": {"botocore", "urllib3", "dateutil", "jmespath", "six"},
    "boto3, s3transfer": {"boto3", "s3transfer"},
    "mangum": {"mangum"},
    "the handler and dashboard (create_app included)": {
        "handler",
        "dashboard",
        *(MODULES[subject] for subject in (NAIVE, FLOOR, BOTOCORE_ONLY)),
    },
}
STDLIB = "standard library (asyncio, json, ssl, email, ...)"


def run_probe(subject: str, paths: dict[str, list[Path]], code: str, *args: str, flags=()) -> str:
    env = {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join(map(str, paths[subject]))}
    for name in ("AWS_CA_BUNDLE", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, *flags, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1] if not flags else result.stderr


def import_times(paths: dict[str, list[Path]], runs: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(runs):  # interleaved, so machine noise hits every subject alike
        for subject in paths:
            code = IMPORT_PROBE.format(module=MODULES[subject])
            samples[subject].append(float(run_probe(subject, paths, code)))
    return samples


def cold_and_warm(paths: dict[str, list[Path]], runs: int, requests: int) -> dict[str, dict]:
    """Medians over `runs` fresh processes per subject, interleaved like the import probe."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    for _ in range(runs):
        for subject in paths:
            code = REQUEST_PROBE.format(module=MODULES[subject], requests=requests)
            samples[subject].append(json.loads(run_probe(subject, paths, code, str(EVENT))))
    return {
        subject: {key: statistics.median(run[key] for run in runs_) for key in runs_[0]}
        for subject, runs_ in samples.items()
    }


def group_of(module: str) -> str:
    top = module.split(".")[0]
    return next((group for group, tops in GROUPS.items() if top in tops), STDLIB)


def import_profile(
    paths: dict[str, list[Path]], subjects: list[str]
) -> dict[str, dict[str, float]]:
    """`-X importtime` over import plus the first /health: median self time per group."""
    per_run: dict[str, list[dict[str, float]]] = {subject: [] for subject in subjects}
    for _ in range(PROFILE_RUNS):
        for subject in subjects:
            code = REQUEST_PROBE.format(module=MODULES[subject], requests=1)
            stderr = run_probe(subject, paths, code, str(EVENT), flags=("-X", "importtime"))
            totals: dict[str, float] = defaultdict(float)
            for line in stderr.splitlines():
                if not line.startswith("import time:") or "self [us]" in line:
                    continue
                self_us, _, name = line.removeprefix("import time:").split("|")
                totals[group_of(name.strip())] += int(self_us) / 1e6
            per_run[subject].append(totals)
    return {
        subject: {
            group: statistics.median(run.get(group, 0.0) for run in runs)
            for group in [*GROUPS, STDLIB]
        }
        for subject, runs in per_run.items()
    }


def phases(paths: dict[str, list[Path]], subjects: list[str]) -> dict[str, dict[str, float]]:
    samples: dict[str, list[dict[str, float]]] = {subject: [] for subject in subjects}
    for _ in range(PROFILE_RUNS):
        for subject in subjects:
            code = PHASE_PROBE.format(module=MODULES[subject])
            samples[subject].append(json.loads(run_probe(subject, paths, code, str(EVENT))))
    return {
        subject: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for subject, runs in samples.items()
    }


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


def trimmed_botocore(into: Path) -> Path:
    """A directory holding botocore as the image ships it: a copy of the locked one, its data cut
    to the service's AWS services by the image's own build step."""
    import botocore

    copy = into / "botocore"
    shutil.copytree(
        Path(botocore.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    trim_botocore_data.trim(copy / "data", AWS_SERVICES)
    return into


def export_service(ref: str, into: Path) -> Path:
    """The service directory as it was at git `ref`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "service"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "service"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _row(label: str, values: dict[str, float], subjects: list[str]) -> str:
    naive = values[NAIVE]
    cells = [f"{ms(values[s])} ({values[s] / naive:.2f}×)" for s in subjects if s != NAIVE]
    return f"| {label} | " + " | ".join([*cells, ms(naive)]) + " |"


def render(results: dict, runs: int, requests: int, before: str | None) -> str:
    ours = [SERVICE, *([BEFORE] if before else [])]
    subjects = [*ours, FLOOR, BOTOCORE_ONLY, NAIVE]
    names = {**NAMES, BEFORE: f"handler at `{before}`"}
    imports, latency = results["imports"], results["latency"]
    median_import = {s: statistics.median(imports[s]) for s in subjects}
    lines = [
        "## Service: cold start in one process",
        "",
        f"`.venv/bin/python bench/bench_service.py --runs {runs} --requests {requests}"
        f"{f' --before {before}' if before else ''}` on {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}. "
        "Baseline: `bench/naive_handler.py` (FastAPI, boto3 and two clients at import), "
        "measured interleaved in the same run; every figure is the median over "
        f"{runs} fresh processes with bytecode compiled beforehand; ratios are to the baseline. "
        f"Goals (issue 13): import <= {IMPORT_GOAL}×, import + first /health <= {COLD_GOAL}×. "
        "Floors, measured alike: `bench/floor_handler.py` (FastAPI, Mangum and a botocore client "
        "made on first use; one route, nothing else: no service on this stack does less) and "
        "`bench/botocore_only_handler.py` (the same /health with no web framework at all). "
        "The service and both floors run on botocore as the image ships it (its data cut to "
        "DynamoDB and S3 by `service/trim_botocore_data.py`); the baseline on botocore as its "
        "wheel installs it."
        + (
            f" The handler at `{before}`: the service as it was then, on the same botocore."
            if before
            else ""
        ),
        "",
        "| measure | " + " | ".join(names[s] for s in subjects) + " |",
        "| --- | " + " | ".join("---" for _ in subjects) + " |",
        _row("import", median_import, subjects),
        _row("first /health after import", {s: latency[s]["first"] for s in subjects}, subjects),
        _row(
            "**import + first /health**",
            {s: latency[s]["cold"] for s in subjects},
            subjects,
        ),
        _row(
            f"warm /health, median of {requests}",
            {s: latency[s]["median"] for s in subjects},
            subjects,
        ),
        _row(
            f"warm /health, p95 of {requests}", {s: latency[s]["p95"] for s in subjects}, subjects
        ),
        "| peak RSS of the process | "
        + " | ".join(f"{latency[s]['rss_mib']:.0f} MiB" for s in subjects)
        + " |",
        "",
        f"Where the time goes: `-X importtime` self time over import + first /health, grouped by "
        f"package (median of {PROFILE_RUNS} processes; what is not an import is app building "
        "inside the handler's import, client creation and the request):",
        "",
        "| group | " + " | ".join(names[s] for s in subjects) + " |",
        "| --- | " + " | ".join("---" for _ in subjects) + " |",
    ]
    profile = results["profile"]
    lines += [
        f"| {group} | " + " | ".join(ms(profile[s][group]) for s in subjects) + " |"
        for group in [*GROUPS, STDLIB]
    ]
    lines.append(
        "| all imports | " + " | ".join(ms(sum(profile[s].values())) for s in subjects) + " |"
    )
    lines += [
        "",
        f"The first /health in phases (median of {PROFILE_RUNS} processes):",
        "",
        "| phase | " + " | ".join(names[s] for s in ours) + " |",
        "| --- | " + " | ".join("---" for _ in ours) + " |",
    ]
    for key, label in PHASES.items():
        lines.append(
            f"| {label} | " + " | ".join(ms(results["phases"][s][key]) for s in ours) + " |"
        )
    lines += [
        "",
        "Storage is a moto server on 127.0.0.1 (DescribeTable over HTTP), so latency is the "
        "service's own overhead plus a loopback round trip.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--before", help="also measure the service at this git ref")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, running_moto_server(Path(scratch)) as moto:
        # The service (now and at --before) and the floors on botocore as the image ships it; the
        # naive baseline on botocore as its wheel installs it.
        image_botocore = trimmed_botocore(Path(scratch) / "image-botocore")
        paths = {SERVICE: [image_botocore, REPO / "service"]}
        if args.before:
            paths[BEFORE] = [image_botocore, export_service(args.before, Path(scratch) / "before")]
        paths |= {floor: [image_botocore, REPO / "bench"] for floor in (FLOOR, BOTOCORE_ONLY)}
        paths[NAIVE] = [REPO / "bench"]
        ENV["AWS_ENDPOINT_URL"] = moto.endpoint
        create_table(moto.endpoint)
        cold_and_warm(paths, 1, 1)  # compiles every subject's bytecode into the cache
        results = {
            "imports": import_times(paths, args.runs),
            "latency": cold_and_warm(paths, args.runs, args.requests),
            "profile": import_profile(paths, list(paths)),
            "phases": phases(paths, [s for s in paths if s in (SERVICE, BEFORE)]),
        }
    text = render(results, args.runs, args.requests, args.before)
    write_section("service", text)
    print(text)


if __name__ == "__main__":
    main()
