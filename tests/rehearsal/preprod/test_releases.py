"""Releases through versions and `live`, in preprod's rehearsal: each new version is checked by
qualifier before any request reaches it; a broken one never takes traffic; a canary takes its
share, then all, or goes back by itself; a rollback moves the alias and nothing else; and after
each, Terraform's second plan changes nothing (it leaves `live` to the pipeline)."""

from __future__ import annotations

from sentiment_pipeline import deploy as chain
from sentiment_pipeline import envs, release
from sentiment_pipeline.stages import Summary
from tests.rehearsal.conftest import Deployed
from tests.rehearsal.preprod.conftest import After, Canary, RedDeploy

PREPROD = envs.get("preprod")


def test_version_2_is_checked_by_qualifier_before_live_moves_to_it(
    second: Deployed, snapshots: dict[str, After]
) -> None:
    facts = dict(second.summary.facts)
    stages = [stage.name for stage in second.summary.stages]

    assert second.summary.ok
    assert stages.index("pre-traffic") < stages.index("traffic")
    assert (facts["live before"], facts["version"], facts["live"]) == (
        "version 1",
        "2",
        "version 2",
    )
    assert facts["pre-traffic check"] == ("GET /health 200", "GET /api/v2/configurations 200")
    now = snapshots["second"]
    assert (now.live.version, now.live.previous) == ("2", "1")
    assert now.live.digest == second.image_ref.split("@")[1]
    assert now.served == {"2"}
    assert now.plan_changes == 0


def test_a_broken_version_is_refused_before_any_request_reaches_it(
    broken: RedDeploy, snapshots: dict[str, After]
) -> None:
    failed = broken.failed

    assert failed.stage == "pre-traffic"
    assert "No module named 'mangum'" in str(failed)
    assert "`live` still serves version 2: no request reached 3" in str(failed)
    assert snapshots["broken"].serving == ("2", {}, "1")
    assert len(broken.during.answers) >= 10, "no requests were made during the deploy"
    assert {status for status, _ in broken.during.answers} == {200}
    assert set(broken.during.versions) == {"2"}
    assert snapshots["broken"].plan_changes == 0


def test_a_canary_takes_about_its_share_while_it_bakes_then_all_traffic(
    canary: Canary, snapshots: dict[str, After]
) -> None:
    assert canary.summary is not None, canary.failed
    during = canary.during.versions
    total = sum(during.values())

    assert dict(canary.summary.facts)["traffic"] == "canary 50% for 8 s, then all"
    assert set(during) == {"2", "4"}
    assert total >= 20
    share = during["4"] / total
    assert 0.2 <= share <= 0.8, during  # 50% set; binomial spread at this count
    assert {status for status, _ in canary.during.answers} == {200}
    assert snapshots["canary"].serving == ("4", {}, "2")
    assert snapshots["canary"].served == {"4"}
    assert snapshots["canary"].plan_changes == 0


def test_a_canary_that_fails_its_checks_puts_live_back_by_itself(
    failed_canary: Canary, snapshots: dict[str, After]
) -> None:
    failed = failed_canary.failed

    assert failed is not None
    assert failed.stage == "traffic"
    assert isinstance(failed.cause, release.CanaryFailed)
    assert "`live` is back on version 4 alone" in str(failed)
    assert snapshots["failed_canary"].serving == ("4", {}, "2")
    assert snapshots["failed_canary"].served == {"4"}
    assert snapshots["failed_canary"].plan_changes == 0


def test_a_rollback_moves_live_back_with_no_image_and_no_terraform(
    rolled_back: Summary, snapshots: dict[str, After]
) -> None:
    facts = dict(rolled_back.facts)

    assert rolled_back.ok
    assert [stage.name for stage in rolled_back.stages] == list(chain.ROLLBACK_STAGES)
    assert facts["rollback"] == "by alias: no image pulled, no Terraform run"
    assert (facts["version"], facts["previous version"]) == ("2", "4")
    assert snapshots["rolled_back"].serving == ("2", {}, "4")
    assert snapshots["rolled_back"].served == {"2"}
    assert snapshots["rolled_back"].plan_changes == 0
