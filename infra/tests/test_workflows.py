"""Checks on the GitHub Actions workflows in .github/workflows.

Every third-party action runs with the workflow's token and, in the nightly
job, with the publishing role: a tag can be moved to other code, a commit
cannot. So every `uses:` must name a full 40-hex commit, with the release it
is in a trailing comment for whoever updates it. The CI workflow must run
.ci/run on every pull request and on every push to main.

Run: python3 -m pytest -q infra/tests/test_workflows.py
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])

# owner/repo[/path]@<40 hex>
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
# A `uses:` line as written, with its trailing comment.
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?:#\s*(?P<comment>.*))?$")


def load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean true.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {name: None for name in on}
    return on or {}


def uses_in(workflow: dict) -> list[str]:
    """Every `uses:` of every job: steps' actions and reusable workflows."""
    found = []
    for job in (workflow.get("jobs") or {}).values():
        if "uses" in job:
            found.append(job["uses"])
        for step in job.get("steps") or []:
            if "uses" in step:
                found.append(step["uses"])
    return found


def is_local(ref: str) -> bool:
    # A path in this repository is pinned by the commit being run.
    return ref.startswith("./")


def test_there_are_workflows():
    names = {p.name for p in WORKFLOW_FILES}
    assert {"ci.yml", "nightly.yml"} <= names, names


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit(path):
    refs = uses_in(load(path))
    assert refs, f"{path.name} uses no action; is it parsed right?"
    unpinned = [r for r in refs if not is_local(r) and not PINNED.match(r)]
    assert not unpinned, f"{path.name}: pin to a 40-hex commit SHA: {unpinned}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_pin_names_its_release_in_a_comment(path):
    lines = [USES_LINE.match(line) for line in path.read_text().splitlines()]
    lines = [m for m in lines if m]
    # The line scan must see exactly what the YAML holds, or it could miss one.
    assert sorted(m["ref"] for m in lines) == sorted(uses_in(load(path)))
    for m in lines:
        if is_local(m["ref"]):
            continue
        assert m["comment"] and re.match(r"v\d", m["comment"]), (
            f"{path.name}: `uses: {m['ref']}` needs its release after it, e.g. `# v4.3.1`"
        )


def test_the_same_action_is_pinned_to_the_same_commit_everywhere():
    commits: dict[str, set[str]] = {}
    for path in WORKFLOW_FILES:
        for ref in uses_in(load(path)):
            if not is_local(ref):
                action, sha = ref.split("@")
                commits.setdefault(action, set()).add(sha)
    differing = {a: s for a, s in commits.items() if len(s) > 1}
    assert not differing, f"one action, several commits: {differing}"


def test_the_pin_check_refuses_tags_branches_and_short_shas():
    # The pattern itself, on references it must refuse and accept.
    for bad in [
        "actions/checkout@v4",
        "actions/checkout@main",
        "actions/checkout@34e1148",
        "actions/checkout@34E114876B0B11C390A56381AD16EBD13914F8D5",
        "actions/checkout@34e114876b0b11c390a56381ad16ebd13914f8d5x",
        "docker://debian:bookworm",
    ]:
        assert not PINNED.match(bad), bad
    assert PINNED.match("actions/checkout@34e114876b0b11c390a56381ad16ebd13914f8d5")
    assert PINNED.match("github/codeql-action/init@" + "0" * 40)


def test_ci_runs_the_ci_script_on_pull_requests_and_pushes_to_main():
    workflow = load(WORKFLOWS / "ci.yml")
    on = triggers(workflow)
    assert "pull_request" in on
    pr = on["pull_request"] or {}
    assert not pr.get("branches") and not pr.get("paths"), "every pull request, not some"
    assert on["push"]["branches"] == ["main"]
    runs = [
        step.get("run", "")
        for job in workflow["jobs"].values()
        for step in job.get("steps") or []
    ]
    assert any(re.search(r"(^|\s)(bash\s+)?\.ci/run\s*$", r) for r in runs), runs


def test_ci_only_reads_the_repository():
    workflow = load(WORKFLOWS / "ci.yml")
    # Pull requests run code from anyone; they get no write token.
    assert workflow["permissions"] == {"contents": "read"}


# `-p generator` alone is ambiguous: a crate the workspace depends on is also
# named `generator`, and cargo refuses to guess. `--bin generator` (or
# `generator@0.1.0`) names ours.
AMBIGUOUS_PACKAGE = re.compile(r"(?:-p|--package)\s+generator(?![@\w-])")
SCRIPTS = [
    *WORKFLOW_FILES,
    ROOT / "infra" / "pipeline" / "nightly",
    ROOT / "scripts" / "run",
    ROOT / "scripts" / "test",
    ROOT / ".ci" / "run",
]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_script_names_the_generator_package_ambiguously(path):
    hits = [
        line.strip()
        for line in path.read_text().splitlines()
        if AMBIGUOUS_PACKAGE.search(line)
    ]
    assert not hits, f"{path.name}: use --bin generator or -p generator@0.1.0: {hits}"
