"""SnapStart: what a restored execution environment must not keep from the snapshot.

Lambda snapshots the environment after init and restores copies of it, possibly much later and
many at once. So after a restore: `random` is reseeded (every copy would otherwise draw the same
numbers, botocore's retry jitter among them), the API-key cache is emptied (its entries' ages
came from the snapshot's clock), and clients whose credentials cannot renew themselves are made
again. The hook is registered with `snapshot_restore_py`, which Lambda's Python base images ship
(awslambdaric depends on it); elsewhere nothing is ever restored, and nothing is registered.
"""

from __future__ import annotations

import logging
import random

from dashboard import auth, aws

logger = logging.getLogger(__name__)


def after_restore() -> None:
    random.seed()
    auth.clear_key_cache()
    if not aws.credentials_refresh_themselves():
        logger.info("after restore: the init's credentials do not renew; making the clients again")
        aws.reset_clients()
        aws.prepare()


def register() -> bool:
    """Register `after_restore` where the runtime can restore this process; whether it could."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True
