"""What `--env local` does inside containers bound to the local stand-ins (no Dagger import).

    python -m sentiment_pipeline.local_aws <command> ...

The Dagger side (local.py) runs these in a plain Python container with this package copied in and a
service binding to moto (or to the HTTP front), so the same ecr/smoke logic as preprod does the
work.
`serve-moto` is the moto service itself: it replays the request recording kept in a cache volume
before it listens, so a later `dagger call` (rollback, local-dashboard) finds what deploy left.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any, Final

from . import api_keys, ecr, release
from .credentials import AwsService

REPLAY_PORT: Final = 5001


def _client(service: AwsService) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def register(repository: str, digest: str, manifest: str, tags: list[str]) -> str:
    """Record a pushed manifest in moto's ECR under `tags`; the ECR-style digest reference."""
    client = _client("ecr")
    media_type = json.loads(manifest).get("mediaType")
    extra = {"imageManifestMediaType": media_type} if media_type else {}
    for tag in tags:
        # imageDigest given: moto otherwise records a digest of its own re-serialised JSON.
        with contextlib.suppress(client.exceptions.ImageAlreadyExistsException):
            client.put_image(
                repositoryName=repository,
                imageManifest=manifest,
                imageTag=tag,
                imageDigest=digest,
                **extra,
            )
    uri = client.describe_repositories(repositoryNames=[repository])["repositories"][0]
    return f"{uri['repositoryUri']}@{digest}"


def function_config(function_name: str) -> dict[str, Any]:
    """The applied Lambda configuration: image, environment, timeout, memory."""
    config = _client("lambda").get_function(FunctionName=function_name)
    conf, code = config["Configuration"], config.get("Code", {})
    return {
        "image_uri": code.get("ImageUri") or conf.get("ImageUri", ""),
        "variables": (conf.get("Environment") or {}).get("Variables") or {},
        "timeout": conf.get("Timeout", 3),
        "memory_size": conf.get("MemorySize", 128),
    }


def live(function_name: str) -> str:
    """`live` as moto holds it, as JSON (null before the first deploy)."""
    found = release.live(_client("lambda"), function_name)
    return json.dumps(dataclasses.asdict(found) if found else None)


def move_live(function_name: str, target: str) -> None:
    fields = json.loads(target)
    release.move(_client("lambda"), function_name, release.Live(**fields))


def check_version(function_name: str, version: str, table: str, invoke_url: str) -> list[str]:
    """The pre-traffic check through the function service of `version` (the emulator's invoke
    endpoint), signed in with a temporary key."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(invoke_url, data=json.dumps(event).encode())
        with urllib.request.urlopen(request, timeout=release.INVOKE_TIMEOUT_S) as answer:
            return release.invoke_result(answer.read(), None)

    with api_keys.temporary_key(_client("dynamodb"), table, release.CHECK_USER) as key:
        return release.pre_traffic_check(f"{version} of {function_name}", invoke, key)


def serve_moto(host: str, port: int) -> None:
    """Replay the recording into a private listener, then serve on host:port with recording on."""
    from moto.moto_api import recorder
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    recording = Path(os.environ["MOTO_RECORDER_FILEPATH"])
    recording.parent.mkdir(parents=True, exist_ok=True)
    recording.touch()
    private = ThreadedMotoServer("127.0.0.1", REPLAY_PORT, verbose=False)
    private.start()
    recorder.replay_recording(target_host=f"http://127.0.0.1:{REPLAY_PORT}")
    private.stop()
    recorder.start_recording()
    # The same process, so the same (module-global) backends: the replayed state is served here.
    public = ThreadedMotoServer(host, port, verbose=False)
    public.start()
    print(f"moto: replayed {recording}; serving on {host}:{port}", flush=True)
    threading.Event().wait()


def command_line() -> argparse.ArgumentParser:
    """The commands local.py runs in its containers (one subcommand each)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    reg = commands.add_parser("register")
    reg.add_argument("--repository", required=True)
    reg.add_argument("--digest-file", type=Path, required=True)
    reg.add_argument("--manifest-file", type=Path, required=True)
    reg.add_argument("--tag", action="append", required=True)
    good = commands.add_parser("last-good")
    good.add_argument("--repository", required=True)
    good.add_argument("--env", required=True)
    mark = commands.add_parser("mark-good")
    mark.add_argument("--repository", required=True)
    mark.add_argument("--env", required=True)
    mark.add_argument("--image-ref", required=True)
    mark.add_argument("--rollback-ref")
    exists = commands.add_parser("repository-exists")
    exists.add_argument("--repository", required=True)
    key = commands.add_parser("register-key", help="the key comes in $SENTIMENT_API_KEY")
    key.add_argument("--table", required=True)
    key.add_argument("--user", required=True)
    conf = commands.add_parser("function-config")
    conf.add_argument("--function-name", required=True)
    for name in ("live", "wait-active", "move-live", "check-version", "prune"):
        command = commands.add_parser(name)
        command.add_argument("--function-name", required=True)
    commands.choices["wait-active"].add_argument("--version", required=True)
    commands.choices["move-live"].add_argument("--target", required=True, help="a Live, as JSON")
    check = commands.choices["check-version"]
    check.add_argument("--version", required=True)
    check.add_argument("--table", required=True)
    check.add_argument("--invoke-url", required=True)
    commands.choices["prune"].add_argument("--keep", action="append", required=True)
    image = commands.add_parser("image-of")
    image.add_argument("--repository", required=True)
    image.add_argument("--digest", required=True)
    serve = commands.add_parser("serve-moto")
    serve.add_argument("--listen", default="0.0.0.0:5000")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = command_line().parse_args(argv)

    if args.command == "register":
        digest = args.digest_file.read_text().strip()
        print(register(args.repository, digest, args.manifest_file.read_text(), args.tag))
    elif args.command == "last-good":
        print(ecr.last_good(_client("ecr"), args.repository, args.env) or "")
    elif args.command == "mark-good":
        ecr.mark_good(_client("ecr"), args.repository, args.env, args.image_ref, args.rollback_ref)
    elif args.command == "repository-exists":
        print("yes" if ecr.repository_exists(_client("ecr"), args.repository) else "no")
    elif args.command == "register-key":
        api_key = os.environ["SENTIMENT_API_KEY"]
        print(api_keys.register(_client("dynamodb"), args.table, args.user, api_key))
    elif args.command == "function-config":
        print(json.dumps(function_config(args.function_name)))
    elif args.command == "live":
        print(live(args.function_name))
    elif args.command == "wait-active":
        release.wait_active(_client("lambda"), args.function_name, args.version)
    elif args.command == "move-live":
        move_live(args.function_name, args.target)
    elif args.command == "check-version":
        checked = check_version(args.function_name, args.version, args.table, args.invoke_url)
        print("; ".join(checked))
    elif args.command == "prune":
        print(" ".join(release.prune(_client("lambda"), args.function_name, set(args.keep))))
    elif args.command == "image-of":
        print(f"{ecr.repository_uri(_client('ecr'), args.repository)}@{args.digest}")
    elif args.command == "serve-moto":
        host, _, port = args.listen.rpartition(":")
        serve_moto(host, int(port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
