"""moto's server, with one correction: bucket policies' aws:SecureTransport conditions.

    python -m devtools.moto_over_tls -H 127.0.0.1 -p 5000

moto 5.1 does not evaluate bucket-policy conditions (moto/s3/models.py, put_bucket_policy:
"Conditions are not taken into account"): a statement that denies only requests *without* TLS
(the state bucket's policy, sentiment_pipeline/bootstrap.py) denies every request there. AWS's
endpoints are always reached over TLS, so a rehearsal standing in for them treats each request as
a TLS one: statements whose one condition is `Bool aws:SecureTransport = false` never apply.
Everything else is moto's own evaluation, unchanged; the policy stays as bootstrap wrote it.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket
from moto.server import main

TLS_ONLY_CONDITION = {"Bool": {"aws:SecureTransport": "false"}}


def _applies_over_tls(statement: dict[str, Any]) -> bool:
    return statement.get("Condition") != TLS_ONLY_CONDITION


def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy.decode())
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    policy["Statement"] = [s for s in statements if _applies_over_tls(s)]
    if not policy["Statement"]:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


FakeBucket.get_permission = get_permission  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
