"""prod runs the very image preprod validated: `promote --from preprod --to prod` copies the digest
tagged deployed-preprod from preprod's account and registry to prod's, byte for byte, through a
registry throttling the first pushes, then applies, smoke-tests and marks it in prod; an image that
never passed preprod's smoke test is refused."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import httpx
import pytest

from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.promote import DockerPromoteSteps
from devtools.rehearsal.steps import DockerSteps
from sentiment_pipeline import deploy as chain
from sentiment_pipeline import ecr
from sentiment_pipeline.stages import StageFailed
from tests.rehearsal.conftest import GIT_SHA, Deployed, ecr_digests
from tests.rehearsal.preprod.conftest import (
    PROD,
    PROD_ACCOUNT,
    THROTTLED_PUSHES,
    Canary,
    Promoted,
)


def test_prod_gets_preprods_digest_byte_for_byte_in_registry_ecr_and_function(
    second: Deployed, promoted: Promoted, preprod: LocalEnvironment, prod: LocalEnvironment
) -> None:
    """preprod's deployed-preprod image: version 2's, which the rollback put back."""
    digest = ecr.digest_of(second.image_ref)
    source = preprod.registry.manifest(preprod.repository, digest)
    copied = prod.registry.manifest(prod.repository, digest)
    in_ecr = ecr.manifest(prod.moto.client("ecr"), prod.repository, digest)["imageManifest"]

    assert promoted.summary.ok
    assert [stage.name for stage in promoted.summary.stages] == list(chain.PROMOTE_STAGES)
    assert copied.body == source.body
    assert in_ecr.encode() == source.body
    assert "sha256:" + hashlib.sha256(copied.body).hexdigest() == digest
    prod_ref = f"{PROD_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{PROD.ecr_repository}@{digest}"
    assert dict(promoted.summary.facts)["image"] == prod_ref
    assert prod.deployed().image_uri == prod_ref
    assert prod.registry.manifest(prod.repository, GIT_SHA).digest == digest
    assert prod.registry.manifest(prod.repository, "latest").digest == digest


def test_prod_is_released_through_the_same_steps_green_and_marked_deployed_prod(
    promoted: Promoted, prod: LocalEnvironment
) -> None:
    facts = dict(promoted.summary.facts)

    answer = httpx.get(f"{prod.front_url}health", timeout=30)

    assert ecr.last_good(prod.moto.client("ecr"), prod.repository, PROD.name) == facts["image"]
    assert (answer.json()["status"], answer.json()["environment"]) == ("healthy", "prod")
    assert answer.headers["x-function-version"] == facts["version"] == "1"
    assert facts["pre-traffic check"] == ("GET /health 200", "GET /api/v2/configurations 200")
    assert prod.plan_changes() == 0


def test_a_429_storm_on_prods_registry_is_survived(promoted: Promoted) -> None:
    assert promoted.proxy.counts.throttled == THROTTLED_PUSHES
    assert 2 <= promoted.steps.attempts.count <= THROTTLED_PUSHES + 1
    assert all("toomanyrequests" in error for error in promoted.steps.attempts.errors)


def test_prod_built_nothing_the_only_image_there_is_preprods(
    second: Deployed, promoted: Promoted, prod: LocalEnvironment
) -> None:
    assert ecr_digests(prod) == {ecr.digest_of(second.image_ref)}
    assert "build" not in [stage.name for stage in promoted.summary.stages]


def test_an_image_that_never_passed_preprod_is_refused_and_nothing_is_copied(
    failed_canary: Canary,
    promoted: Promoted,
    preprod: LocalEnvironment,
    prod: LocalEnvironment,
    prod_steps: Callable[..., DockerSteps],
) -> None:
    """The canary that failed its bake is in preprod's ECR, never marked passed. (Not the broken
    v3: the rehearsal tags every build with one commit, and moto drops an image whose last tag
    moves to a newer one, where ECR would keep it untagged.)"""
    assert failed_canary.failed is not None
    unvalidated = ecr.digest_of(dict(failed_canary.failed.summary.facts)["image"])
    before = (ecr_digests(prod), prod.deployed().image_uri)
    steps = DockerPromoteSteps(preprod, prod_steps())

    with pytest.raises(StageFailed) as refused:
        asyncio.run(chain.promote("rehearsal promote", steps, digest=unvalidated))

    assert refused.value.stage == "find image"
    assert isinstance(refused.value.cause, chain.NotValidated)
    assert "never passed preprod's smoke test" in str(refused.value)
    assert steps.attempts.count == 0
    assert (ecr_digests(prod), prod.deployed().image_uri) == before
    assert not prod.registry.has_manifest(prod.repository, unvalidated)
