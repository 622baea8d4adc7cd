import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

WORKFLOW_DIR = Path(__file__).resolve().parents[2] / ".github" / "workflows"
# Every workflow GitHub would run, so a new file gets the same checks.
WORKFLOWS = sorted(p.name for p in WORKFLOW_DIR.iterdir() if p.suffix in {".yml", ".yaml"})
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


@pytest.fixture(scope="module")
def workflows(repo_root: Path) -> dict[str, dict[str, Any]]:
    return {
        name: yaml.safe_load((repo_root / ".github" / "workflows" / name).read_text())
        for name in WORKFLOWS
    }


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def uses_lines(repo_root: Path, name: str) -> list[str]:
    text = (repo_root / ".github" / "workflows" / name).read_text()
    return [line.split("uses:", 1)[1].strip() for line in text.splitlines() if "uses:" in line]


def test_every_workflow_file_is_checked() -> None:
    assert {"ci.yml", "deploy.yml"} <= set(WORKFLOWS)


def test_workflows_match_the_github_schema(repo_root: Path) -> None:
    paths = [str(repo_root / ".github" / "workflows" / name) for name in WORKFLOWS]
    checker = Path(sys.executable).with_name("check-jsonschema")

    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", WORKFLOWS)
def test_actions_are_pinned_to_commits_with_a_version_comment(repo_root: Path, name: str) -> None:
    for line in uses_lines(repo_root, name):
        assert PINNED.match(line), f"{name}: {line!r} should be owner/repo@<40-hex sha> # vX.Y.Z"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_least_privilege_and_no_persisted_token(
    workflows: dict[str, dict[str, Any]], name: str
) -> None:
    workflow = workflows[name]
    assert workflow["permissions"] == {}
    checkouts = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_pull_requests_run_dagger_test_and_the_test_command(
    workflows: dict[str, dict[str, Any]],
) -> None:
    ci = workflows["ci.yml"]
    dagger = [s for s in steps(ci) if s.get("uses", "").startswith("dagger/dagger-for-github@")]

    assert True in ci
    assert "pull_request" in ci[True]
    assert [(s["with"]["verb"], s["with"]["args"]) for s in dagger] == [("call", "test")]
    assert any("bash scripts/test" in s.get("run", "") for s in steps(ci))


def test_deploys_run_on_main_one_at_a_time(workflows: dict[str, dict[str, Any]]) -> None:
    deploy = workflows["deploy.yml"]

    assert deploy[True] == {"push": {"branches": ["main"]}}
    assert deploy["concurrency"] == {"group": "deploy", "cancel-in-progress": False}


def dagger_step(job: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if s.get("uses", "").startswith("dagger/dagger-for-github@")]
    return step


def dagger_args(job: dict[str, Any]) -> str:
    return " ".join(dagger_step(job)["with"]["args"].split())


def test_preprod_deploys_with_oidc_registers_the_e2e_key_and_exposes_the_digest(
    workflows: dict[str, dict[str, Any]],
) -> None:
    job = workflows["deploy.yml"]["jobs"]["preprod"]
    names = [s.get("uses", s.get("run", "")).split("@")[0] for s in job["steps"]]
    args = dagger_args(job)

    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert names.index("aws-actions/configure-aws-credentials") < names.index(
        "dagger/dagger-for-github"
    )
    assert args.startswith("--aws-access-key-id env://AWS_ACCESS_KEY_ID ")
    assert 'deploy --env preprod --git-sha "$GIT_SHA"' in args
    assert "--e2e-api-key env://E2E_API_KEY" in args
    assert args.endswith("--format json --output deploy-result.json")
    assert set(job["outputs"]) == {"digest", "api_url", "origin"}
    assert all("steps.result.outputs." in value for value in job["outputs"].values())
    result = next(s for s in job["steps"] if s.get("id") == "result")
    assert "deploy-result.json" in result["run"]


def test_the_e2e_suite_runs_without_any_aws_credentials(
    workflows: dict[str, dict[str, Any]],
) -> None:
    job = workflows["deploy.yml"]["jobs"]["e2e"]
    step = job["steps"][-1]

    assert job["needs"] == "preprod"
    assert job["permissions"] == {"contents": "read"}
    assert not [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert "scripts/test tests/e2e" in step["run"]
    assert step["env"]["E2E_BASE_URL"] == "${{ needs.preprod.outputs.api_url }}"
    assert step["env"]["E2E_ORIGIN"] == "${{ needs.preprod.outputs.origin }}"
    assert step["env"]["E2E_API_KEY"] == "${{ secrets.E2E_API_KEY }}"
    assert "E2E_CHROME=" in step["run"]
    assert "sudo" not in step["run"]


def test_prod_promotes_the_digest_preprod_deployed_and_e2e_tested(
    workflows: dict[str, dict[str, Any]],
) -> None:
    job = workflows["deploy.yml"]["jobs"]["prod"]
    args = dagger_args(job)

    assert job["needs"] == ["preprod", "e2e"]
    assert job["environment"]["name"] == "prod"
    assert "promote --from preprod --to prod" in args
    assert '--digest "$DIGEST"' in args
    assert dagger_step(job)["env"]["DIGEST"] == "${{ needs.preprod.outputs.digest }}"
    assert " deploy " not in f" {args} "
    assert args.endswith("--format json --output promote-result.json")


@pytest.mark.parametrize("name", WORKFLOWS)
def test_no_long_lived_keys(repo_root: Path, name: str) -> None:
    text = (repo_root / ".github" / "workflows" / name).read_text()

    assert "secrets.AWS_" not in text
    assert "aws-secret-access-key:" not in text


def test_dagger_version_is_the_engine_version(
    repo_root: Path, workflows: dict[str, dict[str, Any]]
) -> None:
    engine = json.loads((repo_root / "dagger.json").read_text())["engineVersion"]

    assert "v" + workflows["deploy.yml"]["env"]["DAGGER_VERSION"] == engine
    ci_versions = {
        s["with"]["version"]
        for s in steps(workflows["ci.yml"])
        if s.get("uses", "").startswith("dagger/")
    }
    assert {"v" + v for v in ci_versions} == {engine}


# dagger/dagger-for-github pastes these inputs into its bash script (action.yml of v8.4.1: `args`
# through a step output onto the `dagger` command line, `verb` and `call` as they are), so an
# expression in them is shell code; values reach them through the step's env instead.
PASTED_INPUTS = ("args", "verb", "call", "dagger-flags")


@pytest.mark.parametrize("name", WORKFLOWS)
def test_no_expression_is_pasted_into_the_dagger_actions_shell(
    workflows: dict[str, dict[str, Any]], name: str
) -> None:
    for job in workflows[name]["jobs"].values():
        for step in job["steps"]:
            if not step.get("uses", "").startswith("dagger/dagger-for-github@"):
                continue
            pasted = " ".join(str(step["with"].get(key, "")) for key in PASTED_INPUTS)
            assert "${{" not in pasted, f"{name}: {step.get('name')}: {pasted}"
            referenced = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", pasted))
            assert referenced <= set(step.get("env", {})), f"{name}: {step.get('name')}"
            quoted = re.findall(r"(?<![\"\w])\$\{?[A-Z_]", pasted)
            assert not quoted, f"{name}: unquoted variable in {pasted}"


def run_step(step: dict[str, Any], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A `run:` step as GitHub runs it with `shell: bash` (bash --noprofile --norc -eo pipefail)."""
    assert step.get("shell") == "bash", step.get("name")
    script = cwd / "step.sh"
    script.write_text(step["run"])
    output = cwd / "github_output"
    output.write_text("")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), **env},
        capture_output=True,
        text=True,
        check=False,
    )


DEPLOY_RESULT: Final = {
    "summary": "deploy preprod: succeeded",
    "facts": {
        "image": "1.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@sha256:" + "a" * 64,
        "api_url": "https://abc.execute-api.us-east-1.amazonaws.com/",
        "cors_origins": ["https://e2e.example"],
    },
}


def result_step(workflows: dict[str, dict[str, Any]], job: str) -> dict[str, Any]:
    return next(s for s in workflows["deploy.yml"]["jobs"][job]["steps"] if s.get("id") == "result")


def test_the_deploy_result_step_writes_the_digest_url_and_origin(
    workflows: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    (tmp_path / "deploy-result.json").write_text(json.dumps(DEPLOY_RESULT))

    ran = run_step(result_step(workflows, "preprod"), tmp_path)

    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "github_output").read_text().splitlines() == [
        "digest=sha256:" + "a" * 64,
        "api_url=https://abc.execute-api.us-east-1.amazonaws.com/",
        "origin=https://e2e.example",
    ]


@pytest.mark.parametrize(
    "broken",
    [
        {"image": None},
        {"image": "1.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod:latest"},
        {"image": "repo@"},
        {"api_url": None},
        {"cors_origins": []},
    ],
    ids=["no image", "image by tag", "empty digest", "no api url", "no cors origin"],
)
def test_the_deploy_result_step_fails_on_a_missing_value_and_writes_nothing(
    workflows: dict[str, dict[str, Any]], tmp_path: Path, broken: dict[str, Any]
) -> None:
    facts = {k: v for k, v in {**DEPLOY_RESULT["facts"], **broken}.items() if v is not None}
    (tmp_path / "deploy-result.json").write_text(json.dumps({**DEPLOY_RESULT, "facts": facts}))

    ran = run_step(result_step(workflows, "preprod"), tmp_path)

    assert ran.returncode != 0
    assert (tmp_path / "github_output").read_text() == ""


def test_the_promotion_result_step_fails_without_an_api_url(
    workflows: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    (tmp_path / "promote-result.json").write_text(json.dumps({"summary": "s", "facts": {}}))

    ran = run_step(result_step(workflows, "prod"), tmp_path)

    assert ran.returncode != 0
    assert (tmp_path / "github_output").read_text() == ""


@pytest.mark.parametrize(
    ("digest", "accepted"),
    [("", False), ("null", False), ("sha256:abc", False), ("sha256:" + "0" * 64, True)],
)
def test_prod_refuses_an_empty_digest_before_any_aws_step(
    workflows: dict[str, dict[str, Any]], tmp_path: Path, digest: str, accepted: bool
) -> None:
    steps = workflows["deploy.yml"]["jobs"]["prod"]["steps"]
    guard = next(s for s in steps if s.get("env", {}).get("DIGEST") and "run" in s)
    first_aws = next(
        i for i, s in enumerate(steps) if "configure-aws-credentials" in s.get("uses", "")
    )

    ran = run_step(guard, tmp_path, DIGEST=digest)

    assert steps.index(guard) < first_aws
    assert guard["env"]["DIGEST"] == "${{ needs.preprod.outputs.digest }}"
    assert (ran.returncode == 0) is accepted, ran.stdout + ran.stderr
