"""The per-question table printed to a terminal after grading (students and TAs read this).

It takes a SafeConsole only: notes and feedback quote what students wrote."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from grader.grading.results import GradeResult
from grader.grading.selfcheck import CASES, FORM, NOTHING, CheckedPart, CheckReport
from grader.grading.status import FAILED, GRADED, NOT_IMPLEMENTED, PARTIAL, PASSED, PENDING, Status
from grader.outputs.safe_text import SafeConsole

STATUS_STYLE: dict[Status, str] = {
    PASSED: "green",
    PARTIAL: "yellow",
    FAILED: "red",
    NOT_IMPLEMENTED: "dim",
    PENDING: "cyan",
}


def print_report(result: GradeResult, console: SafeConsole, *, details: bool = True) -> None:
    table = Table(title=f"{result.title}", title_justify="left")
    table.add_column("Question", no_wrap=True)
    table.add_column("Title")
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for question in result.questions:
        status = question.status
        manual = f" (+{question.manual_points:g} by hand)" if question.manual_points else ""
        score = (
            f"pending: {question.manual_points:g} by hand"
            if status == PENDING
            else f"{question.score:.4g} / {question.max_score:g}{manual}"
        )
        table.add_row(
            question.number,
            question.title,
            score,
            f"[{STATUS_STYLE.get(status, 'red')}]{status.replace('_', ' ')}[/]",
        )
    for note in result.notes:
        console.print(note, markup=False, highlight=False)
    console.print(table)
    if details and result.outcome == GRADED:  # otherwise the note above says why, once
        for question in result.questions:
            if question.status in (PASSED, PENDING):
                continue
            console.print(f"[bold]{question.number} {question.title}[/]", highlight=False)
            console.print(question.feedback_text(), markup=False, highlight=False)
    applied = ", ".join(result.sandbox.get("applied", [])) or "none"
    console.print(
        f"[dim]sandbox ({result.sandbox.get('policy', 'lenient')}): {applied}[/]", highlight=False
    )
    manual = (
        f" auto-graded; {result.manual_points:g} more points pending, graded by hand "
        f"(the assignment is out of {result.max_score + result.manual_points:g})"
        if result.manual_points
        else ""
    )
    console.print(
        f"[bold]Total: {result.score:.4g} / {result.max_score:g}[/]{manual}  "
        f"[dim]seed {result.seed}, {result.execution_time:.2f} s[/]",
        highlight=False,
    )


CHECK_MARKS: dict[Status, str] = {
    PASSED: "[green]✓[/]",
    FAILED: "[red]✗[/]",
    NOT_IMPLEMENTED: "[dim]…[/]",
    PENDING: "[cyan]•[/]",
}
# A pass that checked less than the public cases gets its own mark: ✓ is only ever "ran the
# public cases and gave the expected outputs".
SCOPE_MARKS = {FORM: "[green]○[/]"}
UNCHECKED_MARK = "[dim]?[/]"
LEGEND = (
    "✓ public cases pass   ○ right form, value judged at grading   "
    "? nothing public to check   ✗ fails   … not implemented   • graded by hand"
)


def _check_mark(part: CheckedPart) -> str:
    if part.status != PASSED or part.scope == CASES:
        return CHECK_MARKS[part.status]
    return SCOPE_MARKS.get(part.scope, UNCHECKED_MARK)


def print_check_report(report: CheckReport, console: SafeConsole) -> None:
    """The student's self-check: what passes, what fails and why, what waits for grading."""
    for note in report.notes:
        console.print(note, markup=False, highlight=False)
    console.print(f"[bold]{report.title}: public checks[/]", highlight=False)
    if report.nothing_ran:
        # One failure explained once (above), not once per part.
        checkable = [p for p in report.parts if p.status != PENDING]
        console.print(
            f"[red]✗ none of the {len(checkable)} parts was checked: the problem above "
            "stops every one of them[/]",
            highlight=False,
        )
        return
    current = None
    for part in report.parts:
        if part.question != current:
            current = part.question
            console.print(f"[bold]{part.question}[/]", highlight=False)
        hidden = (
            f" [dim](+{part.hidden_cases} hidden cases at grading)[/]" if part.hidden_cases else ""
        )
        console.print(
            f"  {_check_mark(part)} {escape(part.name)} [dim]{part.points:g} pt[/]{hidden}",
            highlight=False,
        )
        for line in part.lines:
            for row in line.splitlines():
                console.print(f"      {escape(row)}", highlight=False)
    passed = sum(p.status == PASSED and p.scope == CASES for p in report.parts)
    formed = sum(p.status == PASSED and p.scope == FORM for p in report.parts)
    unchecked = sum(p.status == PASSED and p.scope == NOTHING for p in report.parts)
    total = sum(p.status != PENDING for p in report.parts)
    console.print(f"[dim]{LEGEND}[/]", highlight=False)
    counts = f"{passed} of {total} parts pass their public cases" + "".join(
        f"; {n} more {what[n == 1]}"
        for n, what in (
            (formed, ("have the right form", "has the right form")),
            (unchecked, ("have nothing public to check", "has nothing public to check")),
        )
        if n
    )
    manual = sum(p.points for p in report.parts if p.status == PENDING)
    verdict = (
        f"[green]every public check passes ({counts})[/]"
        if report.all_public_checks_pass
        else f"[yellow]{counts}[/]"
    )
    console.print(
        f"{verdict}. This is not your grade: all "
        f"{report.points_checked_only_at_grading:g} auto-graded points are decided "
        f"at grading, with hidden cases"
        + (f"; {manual:g} more points are graded by hand." if manual else "."),
        highlight=False,
    )
