"""Image build step: keep botocore's data for the function's AWS operations only.

    python3 trim_botocore_data.py <task root>/botocore/data

botocore ships the models of every AWS service (26 MB). Making a client lists every service
directory of its data path (two listings of some 420 directories) and parses `endpoints.json`
(1.3 MB: every service in every partition); that is about two thirds of the cold start's
DynamoDB client. This removes the directories of the services not in
dashboard.aws_services.SERVICES and their entries in `endpoints.json` (found by each kept model's
`endpointPrefix`). The kept services' files lose the text of their `documentation` strings
(emptied, not removed: botocore reads some of the keys), which only docstrings and `help()` show,
and their indentation: S3's model and endpoint rules are four
fifths prose and whitespace, and parsing them was most of making its client. Each kept model then
keeps only the operations in dashboard.aws_services.OPERATIONS and the shapes they reach (with
their paginators and waiters): botocore parses the whole model and gives the client a method per
operation, and S3 has over a hundred; that halves making the S3 client again. Nothing else
changes. Run by service/Dockerfile in the same layer as `pip install`, so the image never holds
the full data.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from dashboard.aws_services import OPERATIONS


def endpoint_prefixes(service_dir: Path) -> set[str]:
    """The `endpointPrefix` of every API version's model of one service."""
    prefixes = set()
    for model in service_dir.glob("*/service-2.json*"):
        raw = model.read_bytes()
        document = json.loads(gzip.decompress(raw) if model.suffix == ".gz" else raw)
        prefixes.add(document["metadata"]["endpointPrefix"])
    return prefixes


def without_documentation(node: Any) -> Any:
    """`node` with every `documentation` string emptied (a member named so is a dict: kept)."""
    if isinstance(node, dict):
        return {
            key: ""
            if key == "documentation" and isinstance(value, str)
            else without_documentation(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [without_documentation(value) for value in node]
    return node


def strip_documentation(service_dir: Path) -> None:
    """Every JSON file of one service's data, rewritten without documentation or whitespace."""
    for path in service_dir.glob("*/*.json*"):
        raw = path.read_bytes()
        compressed = path.suffix == ".gz"
        document = json.loads(gzip.decompress(raw) if compressed else raw)
        text = json.dumps(without_documentation(document), separators=(",", ":")).encode()
        replace(path, gzip.compress(text, mtime=0) if compressed else text)


def replace(path: Path, content: bytes) -> None:
    """A new file at `path`: installers (uv) hard-link package files to their cache, and
    writing through the link would change every copy that shares it."""
    written = path.with_name(path.name + ".trimmed")
    written.write_bytes(content)
    written.replace(path)


def trim(data: Path, keep: Iterable[str]) -> list[str]:
    """Remove every service of `data` not in `keep`; the removed services' names, sorted."""
    keep = set(keep)
    missing = sorted(name for name in keep if not (data / name).is_dir())
    if missing:
        raise SystemExit(f"trim_botocore_data: botocore has no data for {missing} in {data}")
    prefixes = set().union(*(endpoint_prefixes(data / name) for name in keep))
    removed = sorted(
        entry.name for entry in data.iterdir() if entry.is_dir() and entry.name not in keep
    )
    for name in removed:
        shutil.rmtree(data / name)
    for name in keep:
        strip_documentation(data / name)
    endpoints_file = data / "endpoints.json"
    endpoints = json.loads(endpoints_file.read_bytes())
    for partition in endpoints["partitions"]:
        services = partition["services"]
        partition["services"] = {name: services[name] for name in services if name in prefixes}
    replace(endpoints_file, json.dumps(endpoints, separators=(",", ":")).encode())
    return removed


def reachable_shapes(model: dict[str, Any]) -> set[str]:
    """Every shape an operation of `model` uses: its input, output and errors, and theirs."""
    pending = [
        reference["shape"]
        for operation in model["operations"].values()
        for reference in (
            operation.get("input"),
            operation.get("output"),
            *operation.get("errors", ()),
        )
        if reference
    ]
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        shape = model["shapes"][name]
        pending += [member["shape"] for member in shape.get("members", {}).values()]
        pending += [shape[key]["shape"] for key in ("member", "key", "value") if key in shape]
    return reached


def only_operations(model: dict[str, Any], keep: Collection[str]) -> dict[str, Any]:
    """`model` with the operations in `keep` alone, and the shapes they reach."""
    missing = sorted(set(keep) - model["operations"].keys())
    if missing:
        raise SystemExit(
            f"trim_botocore_data: {model['metadata']['serviceId']} has no operation {missing}"
        )
    operations = {name: model["operations"][name] for name in sorted(keep)}
    kept = {**model, "operations": operations}
    return {**kept, "shapes": {n: model["shapes"][n] for n in sorted(reachable_shapes(kept))}}


def keep_operations(service_dir: Path, keep: Collection[str]) -> None:
    """Every API version's model of one service cut down to `keep`, its paginators and waiters
    to those of the kept operations, and its examples (documentation only) removed. Every file
    is cut in memory first: an operation the model lacks stops the build, and none of the
    service's files has changed."""
    cut = {path: _cut(path, keep) for path in sorted(service_dir.glob("*/*.json*"))}
    for path, content in cut.items():
        if content is None:
            path.unlink()
        elif content != b"":
            replace(path, content)


def _cut(path: Path, keep: Collection[str]) -> bytes | None:
    """The new content of one data file: None to remove it, b"" to leave it as it is."""
    if path.name.startswith("examples-1."):
        return None
    raw = path.read_bytes()
    compressed = path.suffix == ".gz"
    document = json.loads(gzip.decompress(raw) if compressed else raw)
    if path.name.startswith("service-2.json"):
        document = only_operations(document, keep)
    elif path.name.startswith("paginators-1."):  # *.sdk-extras.json merges into the model
        paginators = document.get("merge", document)
        paginators["pagination"] = _kept(paginators["pagination"], keep, lambda name, _: name)
    elif path.name.startswith("waiters-2."):
        document["waiters"] = _kept(document["waiters"], keep, lambda _, w: w["operation"])
    else:
        return b""
    text = json.dumps(document, separators=(",", ":")).encode()
    return gzip.compress(text, mtime=0) if compressed else text


def _kept(
    entries: dict[str, Any], keep: Collection[str], operation: Callable[[str, Any], str]
) -> dict[str, Any]:
    return {name: entry for name, entry in entries.items() if operation(name, entry) in keep}


def trim_for_the_function(data: Path, operations: Mapping[str, Collection[str]]) -> list[str]:
    """What the image's build does: the listed services alone (trim), each with the listed
    operations alone; the removed services' names, sorted."""
    removed = trim(data, operations)
    for service, keep in operations.items():
        keep_operations(data / service, keep)
    return removed


def main(arguments: list[str]) -> None:
    if len(arguments) != 1:
        raise SystemExit("usage: python3 trim_botocore_data.py <botocore data directory>")
    (data,) = arguments
    removed = trim_for_the_function(Path(data), OPERATIONS)
    kept = "; ".join(f"{service}: {', '.join(keep)}" for service, keep in OPERATIONS.items())
    print(f"botocore data: kept {kept}; removed {len(removed)} other services")


if __name__ == "__main__":
    main(sys.argv[1:])
