"""DockerPromoteSteps: `dagger call promote`'s steps between two rehearsal environments, each its
own account (a moto server) with its own registry. The source side reads the source account's
ECR (moto), the copy is skopeo registry to registry with the pipeline's own arguments and check
(sentiment_pipeline.promotion), and the target side is the target's DockerSteps: its bootstrap
check, repository creation, Terraform, function, smoke and mark-good, as in a deploy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from devtools.rehearsal import publish as publishing
from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.steps import DockerSteps
from sentiment_pipeline import ecr, promotion
from sentiment_pipeline.deploy import OnTheTarget, SourceImage
from sentiment_pipeline.retry import RetryPolicy


@dataclass
class DockerPromoteSteps(OnTheTarget):
    source: LocalEnvironment
    target: DockerSteps
    push_address: str | None = None  # default: the target's registry; a faulty proxy in tests
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    attempts: publishing.Attempts = field(default_factory=publishing.Attempts)

    async def source_image(self, digest: str | None) -> SourceImage:
        return await asyncio.to_thread(self._source_image, digest)

    def _source_image(self, digest: str | None) -> SourceImage:
        env, client = self.source.env, self.source.moto.client("ecr")
        wanted = {"imageDigest": digest} if digest else {"imageTag": ecr.deployed_tag(env.name)}
        found = ecr.image_tags_of(client, self.source.repository, wanted)
        if found is None:
            msg = f"{self.source.repository} has no image {wanted}: nothing of {env.name}'s to copy"
            raise LookupError(msg)
        passed = ecr.passed_tag(env.name, found[0]) in found[1]
        return SourceImage(f"{self.source.repository_url}@{found[0]}", passed, env.name)

    async def copy(self, source_ref: str) -> str:
        await self.target.ensure_repository()
        return await asyncio.to_thread(self._copy, ecr.digest_of(source_ref))

    def _copy(self, digest: str) -> str:
        source, target = self.source, self.target.environment
        origin = f"{source.registry_address}/{source.repository}@{digest}"
        address = self.push_address or target.registry_address
        destination = f"{address}/{target.repository}:{self.target.git_sha}"
        command = promotion.skopeo_copy(origin, destination, tls_verify=False)[1:]

        def once() -> None:
            publishing.run_skopeo(command, destination)

        self.policy.call(
            f"copy of {origin} to {destination}", publishing.counted(self.attempts, once)
        )
        copied = target.registry.manifest(target.repository, digest)
        promotion.check_copy(
            digest, source.registry.manifest(source.repository, digest).body, copied.body
        )
        target.registry.put_manifest(target.repository, "latest", copied)
        target_ecr = target.moto.client("ecr")
        publishing.register_in_ecr(
            target_ecr, target.repository, copied, (self.target.git_sha, "latest")
        )
        source_record = ecr.manifest(source.moto.client("ecr"), source.repository, digest)
        target_record = ecr.manifest(target_ecr, target.repository, digest)
        promotion.check_copy(
            digest,
            source_record["imageManifest"].encode(),
            target_record["imageManifest"].encode(),
        )
        return f"{target.repository_url}@{digest}"
