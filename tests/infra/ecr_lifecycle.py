"""ECR's lifecycle-policy rules, for checking a policy document offline (moto enforces none).

From ECR's documentation ("Lifecycle policy properties", "Lifecycle policy evaluation rules"):
rule priorities are unique positive integers, lowest evaluated first; a `tagged` rule names tag
prefixes (or patterns), `untagged`/`any` rules name none; at most one rule selects `untagged`; a
rule with `tagStatus = any` must have the highest priority value (be evaluated last). An image that
matches the tag requirements of a rule can never be expired by a rule of lower priority, though
lower rules still count it; a rule listing several prefixes selects only images that have a tag
for each of them; each rule expires the images it selects beyond `countNumber`, oldest
first (countType imageCountMoreThan).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Image:
    digest: str
    pushed_at: int  # larger is newer
    tags: tuple[str, ...] = ()


def violations(policy: dict[str, Any]) -> list[str]:
    """What in the document ECR would refuse (an empty list: ECR accepts it)."""
    rules = policy.get("rules", [])
    problems: list[str] = []
    priorities = [rule.get("rulePriority") for rule in rules]
    if len(set(priorities)) != len(priorities):
        problems.append(f"rule priorities repeat: {priorities}")
    if any(not isinstance(p, int) or p < 1 for p in priorities):
        problems.append(f"rule priorities must be positive integers: {priorities}")
    untagged = [r for r in rules if r["selection"].get("tagStatus") == "untagged"]
    if len(untagged) > 1:
        problems.append("more than one rule selects untagged images")
    highest = max(priorities, default=0)
    for rule in rules:
        selection = rule["selection"]
        status = selection.get("tagStatus")
        prefixes = selection.get("tagPrefixList") or selection.get("tagPatternList")
        where = f"rule {rule.get('rulePriority')}"
        if status not in ("tagged", "untagged", "any"):
            problems.append(f"{where}: tagStatus {status!r} is not tagged, untagged or any")
        if status == "tagged" and not prefixes:
            problems.append(f"{where}: a tagged rule must list tag prefixes or patterns")
        if status in ("untagged", "any") and prefixes:
            problems.append(f"{where}: an {status} rule may not list tag prefixes")
        if status == "any" and rule.get("rulePriority") != highest:
            problems.append(f"{where}: tagStatus any must have the highest rulePriority value")
        if selection.get("countType") != "imageCountMoreThan":
            problems.append(f"{where}: only imageCountMoreThan is evaluated here")
        if rule.get("action", {}).get("type") != "expire":
            problems.append(f"{where}: the action must be expire")
    return problems


def _selects(rule: dict[str, Any], image: Image) -> bool:
    selection = rule["selection"]
    status = selection["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not image.tags
    # "If you specify multiple tags, only the images with all specified tags are selected."
    prefixes = selection.get("tagPrefixList", [])
    return all(any(tag.startswith(prefix) for tag in image.tags) for prefix in prefixes)


def expired(policy: dict[str, Any], images: Iterable[Image]) -> set[str]:
    """The digests ECR would expire from `images` under `policy`."""
    images = list(images)
    gone: set[str] = set()
    matched_earlier: set[str] = set()
    for rule in sorted(policy["rules"], key=lambda r: r["rulePriority"]):
        selected = sorted(
            (i for i in images if _selects(rule, i)), key=lambda i: i.pushed_at, reverse=True
        )
        for image in selected[rule["selection"]["countNumber"] :]:
            if image.digest not in matched_earlier:
                gone.add(image.digest)
        matched_earlier |= {image.digest for image in selected}
    return gone
