"""The `grader` command: one function per subcommand, each a thin layer over the engine.

Each command imports its machinery inside its function: `grader --help` then loads click and
little else, and the commands that grade (`grade`, `check`, `gradescope`) start their zygote
as soon as its preload list is known, before they import the grading stack (the engine, the
checks, numpy), so that those imports overlap with the zygote's on another core.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from grader import __version__
from grader.errors import GraderInputError
from grader.frontends.gradescope import DEFAULT_ROOT
from grader.sandbox.plan import POLICIES

if TYPE_CHECKING:
    from grader.batch.decide import Applied
    from grader.batch.review import AnswerGroup
    from grader.frontends.doctor import Diagnosis
    from grader.grading.results import GradeResult
    from grader.grading.selfcheck import CheckReport
    from grader.outputs.safe_text import SafeConsole
    from grader.rubric.files import RubricSource, SubmissionFiles
    from grader.rubric.model import AutoPart, LoadedRubric
    from grader.sandbox.zygote import WarmChildren
    from grader.submission.staged import StagedSubmission
    from grader.trusted.reference import ReferenceModule

EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_POLICY_REFUSED = 4

rubric_argument = click.argument("rubric", type=click.Path(path_type=Path))
policy_option = click.option(
    "--policy",
    type=click.Choice(POLICIES),
    envvar="GRADER_SANDBOX_POLICY",
    default="lenient",
    show_default=True,
    help="strict: refuse to run student code unless namespaces, an unprivileged uid or "
    "Landlock isolate it (env GRADER_SANDBOX_POLICY).",
)


def _fail(message: str) -> NoReturn:
    from grader.outputs.safe_text import echo

    echo(f"error: {message}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def _read(path: Path) -> RubricSource:
    """The rubric file read and parsed, not validated: what a command needs to start its
    zygote (grader.rubric.files); exits naming the file when it is not a readable rubric."""
    from grader.rubric.files import read_rubric

    try:
        return read_rubric(path)
    except GraderInputError as error:
        _fail(str(error))


def _read_and_start(path: Path, children: WarmChildren) -> RubricSource:
    """The rubric file read, and its zygote (spawned before) handed its preload list at once
    when the rubric alone decides it (grader.submission.preload)."""
    from grader.submission.preload import rubric_preload

    source = _read(path)
    early = rubric_preload(source)
    if early is not None:
        children.start(early)
    return source


def _model(source: RubricSource) -> LoadedRubric:
    """The rubric's model; exits naming every bad field."""
    from grader.rubric.model import validate_rubric

    try:
        return validate_rubric(source)
    except GraderInputError as error:
        _fail(str(error))


def _load(path: Path) -> LoadedRubric:
    return _model(_read(path))


def _load_valid(path: Path) -> LoadedRubric:
    """Load a rubric and run its trusted side; exit naming every problem found."""
    return _validated(_load(path))


def _validated(
    loaded: LoadedRubric,
    reference: ReferenceModule | None = None,
    listed: dict[tuple[int, int, str, int], Any] | None = None,
) -> LoadedRubric:
    """`loaded`, validated (see trusted.validate for `reference` and `listed`); exits naming
    every problem found."""
    from grader.outputs.safe_text import echo
    from grader.trusted.validate import validate

    problems = validate(loaded, reference, listed)
    if problems:
        for problem in problems:
            echo(f"error: {problem}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    return loaded


@click.group()
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade numeric and deep-learning homework in a sandbox, with Gradescope output."""


@main.command("validate")
@rubric_argument
def validate_command(rubric: Path) -> None:
    """Check RUBRIC, its reference module and its case generators, without a submission."""
    from grader.outputs.safe_text import echo
    from grader.trusted.validate import compiler_stack_warning, mistake_warnings

    loaded = _load_valid(rubric)
    for warning in mistake_warnings(loaded):
        echo(f"warning: {loaded.path}: {warning}", err=True)
    slow = compiler_stack_warning(loaded)
    if slow is not None:
        echo(f"warning: {loaded.path}: {slow}", err=True)
    parts = len(loaded.rubric.auto_parts())
    echo(
        f"{rubric}: valid ({len(loaded.rubric.questions)} questions, {parts} auto-graded "
        f"parts, {loaded.rubric.auto_points:g} auto points of "
        f"{loaded.rubric.total_points:g})"
    )


@main.command("mutants")
@rubric_argument
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Credit above which a mutant counts as let through.",
)
def mutants_command(rubric: Path, threshold: float) -> None:
    """Mutation analysis of RUBRIC: grade automatic mutants of each reference function as
    submissions and report any that earns more than THRESHOLD, with the cases that let it
    through. Exit 1 when a mutant survives."""
    from grader.grading.mutants import analyse, render
    from grader.outputs.safe_text import echo
    from grader.trusted.reference import load_reference

    loaded = _load_valid(rubric)
    reference = load_reference(loaded.reference_path)
    report = analyse(loaded, reference, threshold)
    echo(f"{rubric}: " + render(report))
    if report.survivors:
        sys.exit(1)


@main.command("grade")
@rubric_argument
@click.argument("submission", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the Gradescope results.json.",
)
@click.option("--submission-id", help="Seeds random cases (default: the content hash).")
@click.option("--quiet", is_flag=True, help="Print only the total.")
@policy_option
def grade_command(
    rubric: Path,
    submission: Path,
    output: Path | None,
    submission_id: str | None,
    quiet: bool,
    policy: str,
) -> None:
    """Grade one SUBMISSION (a folder or a file) against RUBRIC.

    Exits 0 whenever grading completed, whatever the score.
    """
    from grader.atomic import write_json
    from grader.outputs.gradescope_json import fallback_results, to_gradescope
    from grader.sandbox.zygote import warm_children

    if output is not None:
        write_json(
            output,
            fallback_results(
                "Grading did not finish; this is a placeholder written before any student code ran."
            ),
        )
    with warm_children() as children:  # its interpreter starts while the rubric is read
        loaded = _model(_read_and_start(rubric, children))
        result = _grade_one(loaded, submission, output, submission_id, policy, children)
    if output is not None:
        write_json(output, to_gradescope(result))

    from grader.outputs.safe_text import SafeConsole, echo
    from grader.outputs.terminal import print_report

    for problem in result.internal_errors:
        echo(f"grader error (instructors only): {problem}", err=True)
    console = SafeConsole()
    if quiet:
        console.print(f"{result.score:.4g} / {result.max_score:g}")
    else:
        print_report(result, console)


def _loaded_reference(loaded: LoadedRubric) -> ReferenceModule:
    """The rubric's reference module; exits as validation reports it when it cannot load."""
    from grader.trusted.reference import load_reference

    try:
        return load_reference(loaded.reference_path)
    except GraderInputError:
        _validated(loaded)  # names the rubric and what is wrong with its reference, and exits
        raise  # reached only if validation's own load succeeded: report the first failure


def _grade_one(
    loaded: LoadedRubric,
    submission: Path,
    output: Path | None,
    submission_id: str | None,
    policy: str,
    children: WarmChildren,
) -> GradeResult:
    """`grader grade`'s grading; every failure exits with its code and a results.json. The
    zygote starts here once the submission is located, unless the rubric alone said what it
    preloads."""
    import traceback

    from grader.atomic import write_json
    from grader.outputs.gradescope_json import fallback_results
    from grader.outputs.safe_text import echo
    from grader.sandbox.runner import SandboxPolicyError
    from grader.submission.staged import open_for_grading

    try:
        with open_for_grading(loaded, submission, submission_id, children) as staged:
            return _engine_grade(loaded, staged, output, policy, children)
    except SandboxPolicyError as error:
        if output is not None:
            write_json(output, fallback_results(f"Not graded: {error}"))
        echo(f"error: {error}", err=True)
        sys.exit(EXIT_POLICY_REFUSED)
    except GraderInputError as error:
        if output is not None:
            write_json(output, fallback_results(f"Not graded: {error}"))
        _fail(str(error))
    except Exception as error:
        if output is not None:
            write_json(
                output,
                fallback_results(
                    f"The grader failed internally ({type(error).__name__}); a TA has the details."
                ),
            )
        echo(traceback.format_exc(), err=True)
        sys.exit(EXIT_INTERNAL_ERROR)


def _engine_grade(
    loaded: LoadedRubric,
    staged: StagedSubmission,
    output: Path | None,
    policy: str,
    children: WarmChildren,
) -> GradeResult:
    """The engine's grade, the zygote started. Validated as `grader batch` does: a reference
    function that raises stops grading here, named, rather than silently costing the student
    that part. The engine grades with the validated reference and its answers, computed once."""
    from grader.grading.engine import Engine
    from grader.sandbox.plan import Protected

    reference = _loaded_reference(loaded)
    listed: dict[tuple[int, int, str, int], Any] = {}
    _validated(loaded, reference, listed)
    engine = Engine(
        loaded,
        reference,
        policy=policy,
        launcher=children.launcher(),
        protected=Protected(outputs=(str(output),) if output is not None else ()),
        listed_answers=listed,
    )
    return engine.grade(staged)


def _display(value: Any) -> str:
    import json

    import numpy as np

    if isinstance(value, set):
        value = sorted(value)
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=8, suppress=True, linewidth=100):
            return np.array2string(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)


@main.command("answers")
@rubric_argument
def answers_command(rubric: Path) -> None:
    """Print RUBRIC's canonical answers (and public cases' outputs) for a TA."""
    from rich.table import Table

    from grader.outputs.safe_text import SafeConsole
    from grader.rubric.model import ManualPart
    from grader.trusted.reference import load_reference

    loaded = _load(rubric)
    try:
        reference = load_reference(loaded.reference_path)
    except GraderInputError as error:
        _fail(str(error))
    table = Table(title=loaded.rubric.title, show_lines=True, title_justify="left")
    for column in ("Question", "Part", "Target", "Canonical answer"):
        table.add_column(column)
    for question in loaded.rubric.questions:
        for part in question.parts:
            if isinstance(part, ManualPart):
                table.add_row(question.number, part.name, "(by hand)", part.manual)
                continue
            table.add_row(question.number, part.name, part.target, _answer_text(part, reference))
    SafeConsole().print(table)


def _answer_text(part: AutoPart, reference: ReferenceModule) -> str:
    import numpy as np

    from grader.checks.property import PropertyCheck
    from grader.grading.feedback import short_repr
    from grader.trusted.answers import expected_constant
    from grader.trusted.cases import build_cases

    if part.answer is not None:
        return _display(expected_constant(part, reference))
    spec = part.function
    predicate = part.check.predicate if isinstance(part.check, PropertyCheck) else None
    if spec is None:
        return f"any value satisfying {predicate}"
    lines = [f"function({', '.join(spec.args)})"]
    if spec.reference is None:
        lines.append(f"judged by {predicate}")
        return "\n".join(lines)
    function = reference.function(spec.reference, field="function.reference")
    for case in build_cases(spec, reference, np.random.default_rng(0)):
        if not case.reveal:
            continue
        arguments = ", ".join(f"{k}={short_repr(v)}" for k, v in case.kwargs.items())
        lines.append(f"{arguments} -> {_display(function(**case.kwargs))}")
    hidden = len(spec.hidden) + (spec.random.count if spec.random else 0)
    if hidden:
        lines.append(f"(+{hidden} hidden and random cases)")
    return "\n".join(lines)


cluster_option = click.option(
    "--cluster",
    envvar="GRADER_DASK_CLUSTER",
    metavar="ADDRESS",
    help="A Dask scheduler (tcp://HOST:8786, or tls://) whose workers do the grading; needs "
    "grader[dask] on every machine (env GRADER_DASK_CLUSTER).",
)


def _print_diagnosis(console: SafeConsole, diagnosis: Diagnosis, title: str) -> None:
    from rich.table import Table

    from grader.frontends.doctor import layer_rows

    for key, value in diagnosis.facts.items():
        console.print(f"{key}: {value}", highlight=False)
    table = Table(title=title, title_justify="left")
    for column in ("Layer", "Status", "Detail"):
        table.add_column(column)
    for layer, status, detail in layer_rows(diagnosis):
        colour = "green" if status == "active" else "yellow"
        table.add_row(layer, f"[{colour}]{status}[/]", detail)
    console.print(table)
    for what, layers in diagnosis.confines.items():
        console.print(f"{what} confined by: {', '.join(layers) or 'nothing'}", highlight=False)
    for exposed in diagnosis.exposed:
        console.print(f"[yellow]within the child's reach: {exposed}[/]", highlight=False)
    if diagnosis.refused:
        console.print(f"[red]{diagnosis.refused}[/]", highlight=False)
    else:
        console.print(
            f"child start with all layers and numpy: {diagnosis.start_seconds * 1000:.0f} ms;"
            f" isolating layers: {', '.join(diagnosis.isolating) or 'none'}",
            highlight=False,
        )


@main.command("doctor")
@policy_option
@cluster_option
def doctor_command(policy: str, cluster: str | None) -> None:
    """Show which sandbox layers work on this machine (starts a real sandboxed child), or
    on each worker of a Dask cluster (--cluster).

    Exits 4 when the policy would refuse to grade here (on any worker).
    """
    from grader.frontends.doctor import diagnose
    from grader.outputs.safe_text import SafeConsole

    console = SafeConsole()
    if cluster:
        try:
            from grader.batch.dask_cluster import cluster_diagnoses

            diagnoses = cluster_diagnoses(cluster, policy)
        except ImportError as error:
            _fail(f"--cluster needs the grader[dask] extra (Dask's distributed): {error}")
            raise  # unreachable: _fail exits
        except GraderInputError as error:
            _fail(str(error))
            raise
        if not diagnoses:
            _fail(f"the Dask scheduler at {cluster} has no workers")
        for worker, diagnosis in diagnoses.items():
            _print_diagnosis(console, diagnosis, f"Sandbox layers on {worker} ({policy} policy)")
        refused = [worker for worker, diagnosis in diagnoses.items() if diagnosis.refused]
        if refused:
            console.print(f"[red]refused on {', '.join(refused)}[/]", highlight=False)
            sys.exit(EXIT_POLICY_REFUSED)
        return
    diagnosis = diagnose(policy)
    _print_diagnosis(console, diagnosis, f"Sandbox layers ({policy} policy)")
    if diagnosis.refused:
        sys.exit(EXIT_POLICY_REFUSED)


@main.command("gradescope")
@rubric_argument
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=DEFAULT_ROOT,
    show_default=True,
    help="Gradescope's /autograder folder (movable for testing).",
)
@click.option(
    "--policy",
    type=click.Choice(POLICIES),
    envvar="GRADER_SANDBOX_POLICY",
    default="strict",
    show_default=True,
    help="Sandbox policy; strict refuses to run student code without isolation.",
)
def gradescope_command(rubric: Path, root: Path, policy: str) -> None:
    """Gradescope's entry point: grade ROOT/submission, write ROOT/results/results.json.

    What is printed goes to Gradescope's stdout, which only instructors see.
    """
    from grader.frontends.gradescope import AutograderRoot, run_autograder
    from grader.outputs.safe_text import echo

    result = run_autograder(rubric, AutograderRoot(root), policy, lambda line: echo(line))
    if result is None:
        sys.exit(EXIT_INPUT_ERROR)


@main.command("autograder")
@rubric_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="The zip to upload on Gradescope's autograder page.",
)
@click.option(
    "--unpacked",
    type=click.Path(path_type=Path),
    help="Write the same files to this folder instead (the Dockerfile uses this).",
)
@click.option(
    "--torch-index",
    metavar="URL",
    help="An extra package index for CPU-only torch wheels, used by setup.sh.",
)
def autograder_command(
    rubric: Path, output: Path | None, unpacked: Path | None, torch_index: str | None
) -> None:
    """Build RUBRIC's Gradescope autograder: setup.sh, run_autograder, the grader, the course."""
    from grader.frontends.autograder import bundle, write_tree, write_zip
    from grader.outputs.safe_text import echo

    if (output is None) == (unpacked is None):
        _fail("give exactly one of -o/--output (a zip) or --unpacked (a folder)")
    loaded = _load_valid(rubric)
    try:
        files = bundle(loaded, torch_index)
    except GraderInputError as error:
        _fail(str(error))
    if output is not None:
        write_zip(files, output)
        echo(f"{output}: {len(files)} files; upload it on Gradescope's 'Configure Autograder' page")
    elif unpacked is not None:
        write_tree(files, unpacked)
        echo(f"{unpacked}: {len(files)} files")


@main.command("kit")
@rubric_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The folder to write the kit to (kit.yaml, harness.py if any, the grader's wheel, "
    "STUDENTS.txt).",
)
@click.option(
    "--wheel/--no-wheel",
    default=True,
    show_default=True,
    help="Include a wheel of the grader (no course files) for students to install.",
)
def kit_command(rubric: Path, output: Path, wheel: bool) -> None:
    """Build RUBRIC's student kit: public cases and answer forms only, no hidden answers, and
    the grader's wheel (no course files) that students install."""
    from grader.frontends.autograder import needs_torch
    from grader.frontends.kit import STUDENTS_FILE, build_kit, write_kit
    from grader.grading.engine import read_harness
    from grader.outputs.safe_text import echo
    from grader.trusted.reference import load_reference

    loaded = _load(rubric)
    try:
        reference = load_reference(loaded.reference_path)
        written = write_kit(
            build_kit(loaded, reference),
            read_harness(loaded),
            output,
            wheel=wheel,
            torch=needs_torch(loaded),
        )
    except GraderInputError as error:
        _fail(str(error))
    for path in written:
        echo(f"wrote {path}")
    echo(
        f"hand out {output}/ and the starter {loaded.rubric.submission.entry}; "
        f"{output / STUDENTS_FILE} says what students run"
    )


@main.command("check")
@click.argument("kit_or_rubric", type=click.Path(path_type=Path))
@click.argument("submission", type=click.Path(path_type=Path))
def check_command(kit_or_rubric: Path, submission: Path) -> None:
    """Run the public checks of a kit (a folder) or a rubric (a .yaml) on SUBMISSION.

    Exits 0 when every public check passes, 1 otherwise. It never gives a grade.
    """
    if kit_or_rubric.suffix in (".py", ".ipynb") and (
        submission.is_dir() or submission.suffix in (".yaml", ".yml")
    ):
        _fail(
            f"{kit_or_rubric} looks like your submission and {submission} like the kit: "
            f"the kit comes first, as in `grader check {submission} {kit_or_rubric}`"
        )
    from grader.sandbox.zygote import warm_children

    with warm_children() as children:  # its interpreter starts while the kit or rubric is read
        report = _checked(kit_or_rubric, submission, children)

    from grader.outputs.safe_text import SafeConsole
    from grader.outputs.terminal import print_check_report

    print_check_report(report, SafeConsole())
    sys.exit(0 if report.all_public_checks_pass else 1)


def _checked(kit_or_rubric: Path, submission: Path, children: WarmChildren) -> CheckReport:
    """`grader check`'s report; exits naming what is wrong with the kit, rubric or submission."""
    from pydantic import ValidationError

    from grader.frontends.kit_files import is_kit

    try:
        if kit_or_rubric.is_dir() or is_kit(kit_or_rubric):
            kit, harness = _kit_checks(kit_or_rubric, submission, children)
        else:
            kit, harness = _rubric_checks(kit_or_rubric, submission, children)
        return _self_check(kit_or_rubric, kit, harness, submission, children)
    except (GraderInputError, ValidationError) as error:
        _fail(str(error))


def _kit_checks(
    path: Path, submission: Path, children: WarmChildren
) -> tuple[dict[str, Any], str | None]:
    """A kit's public checks and its harness, with its zygote started: from the kit alone when
    its harness decides what the zygote preloads, else once the submission is located."""
    from grader.frontends.kit_files import load_kit
    from grader.rubric.files import SubmissionFiles
    from grader.submission.preload import decided_by_harness

    kit, harness = load_kit(path)
    spec = SubmissionFiles.model_validate(kit["submission"])
    early = decided_by_harness(spec.preload, harness)
    children.start(early if early is not None else _kit_preload(kit, spec, harness, submission))
    return kit, harness


def _kit_preload(
    kit: dict[str, Any], spec: SubmissionFiles, harness: str | None, submission: Path
) -> list[str]:
    from grader.submission.asked import kit_sheet
    from grader.submission.locate import locate
    from grader.submission.preload import submission_preload

    return submission_preload(spec.preload, harness, locate(submission, spec, kit_sheet(kit)))


def _rubric_checks(
    path: Path, submission: Path, children: WarmChildren
) -> tuple[dict[str, Any], str | None]:
    """The public checks of a rubric, as its kit would hold them, and its harness, with its
    zygote started: from the rubric alone when its harness decides what the zygote preloads,
    else once the submission is located."""
    loaded = _model(_read_and_start(path, children))
    if not children.started:
        children.start(_located_preload(loaded, submission))
    return _public_kit(loaded)


def _located_preload(loaded: LoadedRubric, submission: Path) -> list[str]:
    from grader.submission.asked import sheet_parts
    from grader.submission.locate import locate
    from grader.submission.preload import preload_for

    spec = loaded.rubric.submission
    return preload_for(loaded, locate(submission, spec, sheet_parts(loaded.rubric)))


def _public_kit(loaded: LoadedRubric) -> tuple[dict[str, Any], str | None]:
    from grader.frontends.kit import build_kit
    from grader.grading.engine import read_harness
    from grader.trusted.reference import load_reference

    return build_kit(loaded, load_reference(loaded.reference_path)), read_harness(loaded)


def _self_check(
    kit_or_rubric: Path,
    kit: dict[str, Any],
    harness: str | None,
    submission: Path,
    children: WarmChildren,
) -> CheckReport:
    from grader.grading.selfcheck import SelfCheck, kit_check_models_valid

    problems = kit_check_models_valid(kit)
    if problems:
        _fail(f"{kit_or_rubric}: damaged kit: " + "; ".join(problems))
    return SelfCheck(kit, harness, children.launcher()).run(submission)


@main.command("batch")
@rubric_argument
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option(
    "-o",
    "--outdir",
    type=click.Path(path_type=Path),
    required=True,
    help="Where the gradebook, grades.csv, report.html and results/ go.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    help="Grading processes in parallel [default: one per core; with --cluster, one per "
    "Dask worker thread].",
)
@click.option("--force", is_flag=True, help="Regrade submissions that are already graded.")
@click.option(
    "--cold",
    is_flag=True,
    help="Start a fresh interpreter per sandboxed child instead of forking warm "
    "ones (slower; for comparison).",
)
@policy_option
@cluster_option
def batch_command(
    rubric: Path,
    source: Path,
    outdir: Path,
    workers: int,
    force: bool,
    cold: bool,
    policy: str,
    cluster: str | None,
) -> None:
    """Grade every submission in SOURCE (a Gradescope export zip or folder, or a folder with
    one sub-folder or file per student) into OUTDIR.

    Rerunning skips submissions already graded with the same content, rubric, reference
    and grader; an interrupted run resumes where it stopped. Exits 0 when every submission
    has a row, whatever the scores.
    """
    # Imported here: the batch machinery (gradebook, workers, outputs) takes 0.12 s to import,
    # which every other command (a student's `grader check`) would pay.
    from grader.batch.progress import BatchDisplay
    from grader.batch.run import Batch, BatchOptions
    from grader.outputs.safe_text import echo

    options = BatchOptions(
        rubric=rubric,
        source=source,
        outdir=outdir,
        workers=workers,
        force=force,
        policy=policy,
        warm=not cold,
        cluster=cluster,
    )
    try:
        with BatchDisplay() as display:
            summary = Batch(options, on_progress=display).run()
    except GraderInputError as error:
        _fail(str(error))
    for note in summary.notes:
        echo(f"note: {note}", err=True)
    graded = len(summary.graded)
    rate = graded / summary.seconds if summary.seconds else 0.0
    echo(
        f"{len(summary.submissions)} submissions: {graded} graded, "
        f"{len(summary.skipped)} unchanged (skipped), {len(summary.problems)} with "
        f"problems; {summary.seconds:.1f} s ({rate:.1f} graded/s)"
    )
    if cluster:  # one line per Dask worker: how it launches children, or why it cannot grade
        for line in summary.launchers:
            echo(f"worker {line}")
    elif summary.launchers:
        echo(f"children: {summary.launchers[0]}")
    for name in ("grades.csv", "report.html", "gradebook.sqlite"):
        echo(f"wrote {outdir / name}")
    parts, groups = summary.awaiting_review
    if parts:
        echo(
            f"{parts} written answers await review in {groups} answer groups: "
            f"grader review {outdir}"
        )


@main.command("regrade-diff")
@click.argument("old_outdir", type=click.Path(path_type=Path))
@click.argument("new_outdir", type=click.Path(path_type=Path))
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=Path),
    help="Also write the changes as CSV (student, sid, old, new, delta, questions).",
)
def regrade_diff_command(old_outdir: Path, new_outdir: Path, csv_path: Path | None) -> None:
    """List the students whose scores differ between two `grader batch` output folders."""
    from rich.table import Table

    from grader.atomic import write_bytes
    from grader.batch.regrade_diff import changes_csv, score_changes
    from grader.outputs.safe_text import SafeConsole, echo

    try:
        changes = score_changes(old_outdir, new_outdir)
    except GraderInputError as error:
        _fail(str(error))
    if csv_path is not None:
        write_bytes(csv_path, changes_csv(changes).encode())
    if not changes:
        echo("no score changed")
        return
    plural = "students with changed scores" if len(changes) != 1 else "student with a changed score"
    table = Table(title=f"{len(changes)} {plural}", title_justify="left")
    for column in ("Student", "SID", "Old", "New", "Change", "Questions changed", "Cause"):
        table.add_column(column)
    for change in changes:
        table.add_row(
            change.student,
            change.sid,
            _score_text(change.old_total),
            _score_text(change.new_total),
            f"{change.delta:+.4g}",
            ", ".join(f"{n}: {_score_text(a)} → {_score_text(b)}" for n, a, b in change.questions),
            "; ".join(change.causes),
        )
    SafeConsole().print(table)


@main.command("review")
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option(
    "--decide",
    "decide_ids",
    multiple=True,
    metavar="GROUP",
    help="Decide these answer groups (repeatable) with --credit and --feedback.",
)
@click.option(
    "--credit",
    type=float,
    help="With --decide: the fraction of the part's points earned, 0 to 1.",
)
@click.option(
    "--feedback", default="", help="With --decide: what every student of the group reads."
)
@click.option(
    "--undo", "undo_ids", multiple=True, metavar="GROUP", help="Make groups pending again."
)
@click.option(
    "--export",
    "export_path",
    type=click.Path(path_type=Path),
    help="Write every group to a YAML file to fill in (credit, feedback) and --import.",
)
@click.option(
    "--import",
    "import_path",
    type=click.Path(path_type=Path),
    help="Record the decisions of a file written by --export.",
)
@click.option("--by", default=None, help="Who decides [default: the login name].")
@click.option("--pending", is_flag=True, help="List only the groups still to decide.")
@click.option(
    "--rubric",
    type=click.Path(path_type=Path),
    help="The rubric, if it moved since the batch [default: the one the last run used].",
)
def review_command(
    outdir: Path,
    decide_ids: tuple[str, ...],
    credit: float | None,
    feedback: str,
    undo_ids: tuple[str, ...],
    export_path: Path | None,
    import_path: Path | None,
    by: str | None,
    pending: bool,
    rubric: Path | None,
) -> None:
    """List the groups of written answers awaiting review in a `grader batch` OUTDIR, or decide
    them: one credit per group of answers read alike, applied at once to grades.csv,
    report.html and results/ without grading again, and kept across reruns."""
    import getpass

    from grader.batch.decide import Review
    from grader.batch.decisions_file import Ruling
    from grader.outputs.safe_text import echo

    actions = [bool(decide_ids), bool(undo_ids), export_path is not None, import_path is not None]
    if sum(actions) > 1:
        _fail("give one of --decide, --undo, --export and --import at a time")
    if decide_ids and credit is None:
        _fail("--decide needs --credit (the fraction of the part's points, 0 to 1)")
    if credit is not None and not decide_ids:
        _fail("--credit goes with --decide GROUP")
    if credit is not None and not 0 <= credit <= 1:
        _fail(f"--credit must be between 0 and 1 (a fraction of the part's points), got {credit:g}")
    who = by or getpass.getuser()
    try:
        with Review(outdir, rubric) as review:
            if decide_ids:
                assert credit is not None
                rulings = [
                    Ruling(group, credit, feedback.strip()) for group in review.find(decide_ids)
                ]
                _applied(review.decide(rulings, who), "decided")
            elif undo_ids:
                _applied(review.withdraw(review.find(undo_ids), who), "made pending again")
            elif import_path is not None:
                _applied(review.import_file(import_path, who), f"decided from {import_path}")
            elif export_path is not None:
                count = review.export_file(export_path)
                echo(f"wrote {count} groups to {export_path}")
            else:
                _list_groups(review.groups(), only_pending=pending)
    except GraderInputError as error:
        _fail(str(error))


def _applied(applied: Applied, verb: str) -> None:
    from grader.outputs.safe_text import echo

    echo(
        f"{applied.groups} groups {verb}: the grades of {applied.submissions} submissions "
        f"updated (not graded again); {applied.pending_groups} groups still pending; "
        "grades.csv, report.html and results/ rewritten"
    )


def _list_groups(groups: list[AnswerGroup], *, only_pending: bool) -> None:
    """A block per group rather than a table: readings and excerpts are long, and a TA reads
    them whole (and greps them)."""
    from grader.outputs.safe_text import echo

    if not groups:
        echo("no written answer awaits review")
        return
    waiting = [g for g in groups if g.decision is None]
    echo(
        f"{len(groups)} answer groups ({sum(len(g.members) for g in groups)} parts), "
        f"{len(waiting)} pending"
    )
    for group in waiting if only_pending else groups:
        example = group.members[0]
        decision = group.decision
        verdict = (
            "pending"
            if decision is None
            else f"credit {decision.credit:g} by {decision.decided_by} at {decision.decided_at}"
        )
        size = f"{len(group.members)} student" + ("s" if len(group.members) != 1 else "")
        echo(f"\n{group.id}  {group.question} {group.part}  {size}  {verdict}")
        # An answer a TA must read whole is "read as" its own passage (both cut, at different
        # lengths): shown once, as written.
        shown, written = (" ".join(text.split()) for text in (example.shown, example.excerpt))
        if not shown or (shown != written and shown[:200] != written[:200]):
            echo(f"    read as:  {example.shown or '(nothing read)'}")
        echo(f"    line {example.line}:  " + "\n        ".join(example.excerpt.splitlines()))
        echo(f"    unsure:   {example.reason}")
        if decision is not None and decision.feedback:
            echo(f"    feedback: {decision.feedback}")


def _score_text(value: float | None) -> str:
    return "absent" if value is None else f"{value:.4g}"
