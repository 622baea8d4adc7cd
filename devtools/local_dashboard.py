"""Serve the dashboard on localhost against a local moto server seeded with demo data.

    scripts/dashboard [--port 8000] [--api-key KEY]

No AWS account is used: every AWS call goes to moto on 127.0.0.1. The API key (a random one
unless given) is registered for the user "local", as the pipeline registers keys, and the printed
URL carries it for the page (in the fragment, which never reaches the server). Requests reach the
Lambda handler in this process as API Gateway would send them: the local deploy's front
(devtools/rehearsal/apigw_front.py) turns each into an HTTP API event.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "service"), str(REPO / "ci" / "src")]

from devtools.demo_data import DemoNames, create_resources, seed  # noqa: E402
from devtools.rehearsal import apigw_front  # noqa: E402
from sentiment_pipeline import api_keys  # noqa: E402
from tests.support.moto_server import running_moto_server  # noqa: E402

LOCAL_USER = "local"
LOCAL_ENVIRONMENT = {
    "ENVIRONMENT": "local",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-key", help="the local user's API key (default: a random one)")
    parser.add_argument("--cors-origins", help="comma-separated allowed origins (CORS_ORIGINS)")
    args = parser.parse_args(argv)

    import boto3

    # As SystemExit, SIGTERM still stops the server and the moto server.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

    with tempfile.TemporaryDirectory() as logs, running_moto_server(Path(logs)) as moto:
        names = DemoNames()
        os.environ.update(
            {**LOCAL_ENVIRONMENT, **names.environment(), "AWS_ENDPOINT_URL": moto.endpoint}
        )
        os.environ.pop("AWS_CA_BUNDLE", None)
        if args.cors_origins:
            os.environ["CORS_ORIGINS"] = args.cors_origins
        session = boto3.session.Session()
        create_resources(session, names)
        seed(session, names)
        key = args.api_key or api_keys.new_key()
        api_keys.register(session.client("dynamodb"), names.users, LOCAL_USER, key)
        print(f"moto server (AWS stand-in): {moto.endpoint}", flush=True)
        url = api_keys.dashboard_url(f"http://127.0.0.1:{args.port}/", key)
        print(f"dashboard: {url}   (Ctrl-C to stop)", flush=True)
        import handler

        apigw_front.serve_until_interrupted(
            apigw_front.serve_in_process(
                "127.0.0.1", args.port, handler.lambda_handler, quiet=False
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
