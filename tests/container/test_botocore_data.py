"""The image keeps botocore's data for the function's AWS operations only (trim_botocore_data.py).

The trim itself is tested on a copy of the locked botocore's own data (no Docker); the built image
is then checked to hold exactly what the trim keeps, and to make every listed client from it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import botocore
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader
from botocore.session import Session

import trim_botocore_data
from dashboard.aws_services import OPERATIONS, SERVICES
from tests.container.conftest import BuiltImage
from tests.support import docker

BOTOCORE_DATA = Path(botocore.__file__).parent / "data"
SHARED_FILES = {
    "_retry.json",
    "endpoints.json",
    "partitions.json",
    "sdk-default-configuration.json",
}
# Besides the function's services: CloudWatch, whose endpoint prefix ("monitoring") is not its
# name, and one more the trim must remove.
SAMPLE_SERVICES = (*SERVICES, "cloudwatch", "sqs")


def data_copy(into: Path, services: Iterable[str] = SAMPLE_SERVICES) -> Path:
    """A botocore data directory with the shared files and `services`, copied from the lock's."""
    data = into / "data"
    data.mkdir()
    for name in SHARED_FILES:
        shutil.copy(BOTOCORE_DATA / name, data)
    for name in services:
        shutil.copytree(BOTOCORE_DATA / name, data / name)
    return data


def session_on(data: Path) -> Session:
    session = Session()
    loader = Loader(extra_search_paths=[str(data)], include_default_search_paths=False)
    session.register_component("data_loader", loader)
    return session


def endpoint_of(session: Session, service: str) -> str:
    client = session.create_client(
        service, region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    return str(client.meta.endpoint_url)


def endpoints_services(data: Path) -> list[dict[str, object]]:
    document = json.loads((data / "endpoints.json").read_text())
    return [partition["services"] for partition in document["partitions"]]


def test_trim_keeps_the_listed_services_and_their_endpoints_as_botocore_ships_them(
    tmp_path: Path,
) -> None:
    data = data_copy(tmp_path)
    before = endpoints_services(data)
    untrimmed = {service: endpoint_of(session_on(data), service) for service in SAMPLE_SERVICES}

    removed = trim_botocore_data.trim(data, ("dynamodb", "s3", "cloudwatch"))

    assert removed == ["sqs"]
    assert {entry.name for entry in data.iterdir()} == {
        *SHARED_FILES,
        "dynamodb",
        "s3",
        "cloudwatch",
    }
    for original, trimmed in zip(before, endpoints_services(data), strict=True):
        kept = {"dynamodb", "s3", "monitoring"} & original.keys()
        assert trimmed == {name: original[name] for name in kept}
    session = session_on(data)
    for service in ("dynamodb", "s3", "cloudwatch"):
        assert endpoint_of(session, service) == untrimmed[service]
    with pytest.raises(UnknownServiceError):
        session.create_client("sqs", region_name="eu-west-1")


def test_the_kept_models_lose_their_documentation_and_nothing_else(tmp_path: Path) -> None:
    data = data_copy(tmp_path, ("dynamodb",))
    shipped = Loader().load_service_model("dynamodb", "service-2")
    size_before = sum(p.stat().st_size for p in (data / "dynamodb").rglob("*.json*"))

    trim_botocore_data.trim(data, ("dynamodb",))

    trimmed = (
        session_on(data).get_component("data_loader").load_service_model("dynamodb", "service-2")
    )
    assert trimmed == trim_botocore_data.without_documentation(shipped)
    assert any(_documentation(shipped)), "the shipped model documents nothing: nothing was checked"
    assert all(text == "" for text in _documentation(trimmed))
    operation = session_on(data).get_service_model("dynamodb").operation_model("DescribeTable")
    assert operation.documentation == ""
    assert operation.input_shape.required_members == ["TableName"]
    size_after = sum(p.stat().st_size for p in (data / "dynamodb").rglob("*.json*"))
    assert size_after < size_before / 2


def test_the_kept_models_keep_the_listed_operations_and_every_shape_they_reach(
    tmp_path: Path,
) -> None:
    data = data_copy(tmp_path, SERVICES)
    shipped = {service: Loader().load_service_model(service, "service-2") for service in SERVICES}

    trim_botocore_data.trim_for_the_function(data, OPERATIONS)

    loader = session_on(data).get_component("data_loader")
    for service, operations in OPERATIONS.items():
        model = loader.load_service_model(service, "service-2")
        complete = trim_botocore_data.without_documentation(shipped[service])
        assert sorted(model["operations"]) == sorted(operations)
        assert model["operations"] == {name: complete["operations"][name] for name in operations}
        assert set(model["shapes"]) == trim_botocore_data.reachable_shapes(model)
        assert model["shapes"] == {name: complete["shapes"][name] for name in model["shapes"]}
        assert len(model["shapes"]) < len(complete["shapes"]) / 2
        assert not list((data / service).rglob("examples-1.json*"))
    assert loader.load_service_model("dynamodb", "paginators-1")["pagination"].keys() == {"Query"}
    waiters = loader.load_service_model("dynamodb", "waiters-2")["waiters"].values()
    assert {waiter["operation"] for waiter in waiters} == {"DescribeTable"}
    s3 = session_on(data).create_client("s3", region_name="eu-west-1")
    assert hasattr(s3, "get_object")
    assert not hasattr(s3, "put_object")


def test_an_operation_the_model_lacks_stops_the_trim_by_name_and_changes_nothing(
    tmp_path: Path,
) -> None:
    data = data_copy(tmp_path, ("dynamodb",))
    before = {path: path.read_bytes() for path in (data / "dynamodb").rglob("*.json*")}

    with pytest.raises(SystemExit, match=r"DynamoDB has no operation \['GetItems'\]"):
        trim_botocore_data.keep_operations(data / "dynamodb", ("GetItem", "GetItems"))

    assert {path: path.read_bytes() for path in (data / "dynamodb").rglob("*.json*")} == before


def _documentation(node: object) -> list[object]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "documentation" and isinstance(v, str)]
        return found + [d for v in node.values() for d in _documentation(v)]
    if isinstance(node, list):
        return [d for v in node for d in _documentation(v)]
    return []


def test_trim_leaves_a_hard_linked_copy_as_it_was(tmp_path: Path) -> None:
    """uv installs by hard-linking its cache: trimming an install must not edit the cache (nor
    every other venv linked to it) through the link."""
    data = data_copy(tmp_path, ("dynamodb",))
    elsewhere = tmp_path / "cache"
    elsewhere.mkdir()
    linked = [data / "endpoints.json", *sorted((data / "dynamodb").rglob("*.json*"))]
    originals = {}
    for index, path in enumerate(linked):
        (elsewhere / str(index)).hardlink_to(path)
        originals[index] = path.read_bytes()

    trim_botocore_data.trim(data, ("dynamodb",))

    assert {i: (elsewhere / str(i)).read_bytes() for i in originals} == originals
    assert (data / "endpoints.json").read_bytes() != originals[0]


def test_trim_refuses_a_service_botocore_has_no_data_for_and_removes_nothing(
    tmp_path: Path,
) -> None:
    data = data_copy(tmp_path)
    endpoints = (data / "endpoints.json").read_bytes()

    with pytest.raises(SystemExit, match=r"no data for \['dynamo'\]"):
        trim_botocore_data.trim(data, ("dynamo", "s3"))

    assert {entry.name for entry in data.iterdir()} == {*SHARED_FILES, *SAMPLE_SERVICES}
    assert (data / "endpoints.json").read_bytes() == endpoints


@pytest.mark.docker
def test_the_image_holds_botocore_data_for_the_listed_operations_alone_and_makes_their_clients(
    runtime_image: BuiltImage,
) -> None:
    script = (
        "import json, os, botocore, botocore.session\n"
        "data = os.path.join(os.path.dirname(botocore.__file__), 'data')\n"
        "session = botocore.session.Session()\n"
        "clients = {service: session.create_client(service, region_name='eu-west-1',"
        " aws_access_key_id='a', aws_secret_access_key='b')"
        f" for service in {SERVICES!r}}}\n"
        "print(json.dumps({'entries': sorted(os.listdir(data)),"
        " 'endpoints': {name: c.meta.endpoint_url for name, c in clients.items()},"
        " 'operations': {name: sorted(c.meta.service_model.operation_names)"
        " for name, c in clients.items()}}))\n"
    )
    inside = json.loads(docker.run_python(runtime_image.tag, script).stdout)

    assert set(inside["entries"]) == {*SHARED_FILES, *SERVICES}
    host = Session()
    assert inside["endpoints"] == {service: endpoint_of(host, service) for service in SERVICES}
    assert inside["operations"] == {service: sorted(OPERATIONS[service]) for service in SERVICES}
