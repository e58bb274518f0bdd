"""Running as a Gradescope autograder: the /autograder layout, its metadata, and results that
are always valid on disk.

Gradescope runs `run_autograder` as root in a fresh container, with the student's files in
/autograder/submission and its metadata in /autograder/submission_metadata.json, and reads
/autograder/results/results.json afterwards. Its stdout is shown to instructors only, so the
grader's diagnostics go there; what students see is results.json, test by test, with the
rubric's visibility.

Like a command of grader.cli, it starts its zygote before it imports the grading stack (engine,
checks, numpy): the zygote's imports then overlap with the trusted process's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.atomic import write_json
from grader.errors import GraderInputError
from grader.outputs.gradescope_json import fallback_results, to_gradescope

if TYPE_CHECKING:
    from grader.grading.results import GradeResult
    from grader.rubric.files import RubricSource
    from grader.rubric.model import LoadedRubric
    from grader.sandbox.plan import Protected
    from grader.sandbox.zygote import WarmChildren
    from grader.submission.staged import StagedSubmission

DEFAULT_ROOT = Path("/autograder")
MISCONFIGURED = (
    "The autograder could not run (a configuration problem, not your submission); "
    "your instructor can see why."
)


@dataclass(frozen=True)
class AutograderRoot:
    """Where Gradescope puts things, relative to a root that tests can move."""

    root: Path

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"


def read_metadata(path: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """submission_metadata.json, or {} (with a diagnostic) when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        log(f"metadata: {path} unreadable ({error}); seeding from the submission's content")
        return {}
    if not isinstance(data, dict):
        log(f"metadata: {path} is not a JSON object; ignored")
        return {}
    return data


def gradescope_json(result: GradeResult) -> dict[str, Any]:
    data = to_gradescope(result)
    data["stdout_visibility"] = "hidden"  # the grader's diagnostics are for instructors
    return data


def run_autograder(
    rubric_path: Path, root: AutograderRoot, policy: str, log: Callable[[str], None]
) -> GradeResult | None:
    """Grade the submission under `root`, keeping a valid results.json on disk throughout.

    Returns None when nothing could be graded because the autograder itself is misconfigured
    (the reason is logged for instructors and results.json says so for students).
    """
    # Imported here, as in grader.cli's commands: `grader --help` needs DEFAULT_ROOT only.
    from grader.sandbox.zygote import warm_children

    write_json(
        root.results,
        fallback_results(
            "The autograder started but did not finish; this placeholder was written before any "
            "of your code ran."
        ),
    )
    with warm_children() as children:  # its interpreter starts while the rubric is read
        source = _read_and_start(rubric_path, root, log, children)
        return None if source is None else _grade(source, root, policy, log, children)


def _read_and_start(
    rubric_path: Path, root: AutograderRoot, log: Callable[[str], None], children: WarmChildren
) -> RubricSource | None:
    """The rubric file read, and its zygote (spawned before) handed its preload list at once
    when the rubric alone decides it; None, logged and said in results.json, when the rubric
    cannot be read."""
    from grader.rubric.files import read_rubric
    from grader.submission.preload import rubric_preload

    try:
        source = read_rubric(rubric_path)
    except GraderInputError as error:
        log(f"error: {error}")
        write_json(root.results, fallback_results(MISCONFIGURED))
        return None
    early = rubric_preload(source)
    if early is not None:
        children.start(early)
    return source


def _grade(
    source: RubricSource,
    root: AutograderRoot,
    policy: str,
    log: Callable[[str], None],
    children: WarmChildren,
) -> GradeResult | None:
    """run_autograder's grading, once its zygote is started if the rubric alone said what it
    preloads (else it is started once the submission is located)."""
    from grader.rubric.model import validate_rubric
    from grader.sandbox.plan import Protected
    from grader.sandbox.runner import SandboxPolicyError
    from grader.submission.staged import open_for_grading

    try:
        loaded = validate_rubric(source)
    except GraderInputError as error:
        log(f"error: {error}")
        write_json(root.results, fallback_results(MISCONFIGURED))
        return None
    metadata = read_metadata(root.metadata, log)
    submission_id = str(metadata["id"]) if "id" in metadata else None
    users = ", ".join(
        str(u.get("name", "?")) for u in metadata.get("users", []) if isinstance(u, dict)
    )
    log(
        f"grading submission {submission_id or '(no id)'} by {users or '(unknown)'} against "
        f"{source.path} ({policy} sandbox policy)"
    )
    protected = Protected(secret=(str(root.root / "source"),), outputs=(str(root.results),))
    try:
        with open_for_grading(loaded, root.submission, submission_id, children) as submission:
            result = _engine_grade(loaded, submission, root, policy, protected, log, children)
    except (SandboxPolicyError, GraderInputError) as error:
        log(f"error: {error}")
        write_json(root.results, fallback_results(MISCONFIGURED))
        return None
    write_json(root.results, gradescope_json(result))
    log_diagnostics(result, log)
    return result


def _engine_grade(
    loaded: LoadedRubric,
    submission: StagedSubmission,
    root: AutograderRoot,
    policy: str,
    protected: Protected,
    log: Callable[[str], None],
    children: WarmChildren,
) -> GradeResult:
    """The engine's grade, its zygote started; results.json follows its progress."""
    from grader.grading.engine import Engine
    from grader.trusted.reference import load_reference

    reference = load_reference(loaded.reference_path)
    engine = Engine(
        loaded, reference, policy=policy, launcher=children.launcher(), protected=protected
    )
    log(f"sandboxed children: {children.description}")
    return engine.grade(
        submission,
        on_progress=lambda partial: write_json(root.results, gradescope_json(partial)),
    )


def log_diagnostics(result: GradeResult, log: Callable[[str], None]) -> None:
    log(f"sandbox applied: {'; '.join(result.sandbox.get('applied', []))}")
    for layer, reason in result.sandbox.get("unavailable", {}).items():
        log(f"sandbox unavailable: {layer}: {reason}")
    for question in result.questions:
        log(
            f"{question.number:>8} {question.score:8.4g} / {question.max_score:<6g} "
            f"{question.status:16} {question.seconds:7.2f} s"
        )
    for problem in result.internal_errors:
        log(f"grader error: {problem}")
    log(
        f"total {result.score:g} / {result.max_score:g} in {result.execution_time:.2f} s, "
        f"seed {result.seed}"
    )
