"""`grader review`: a batch's answer groups for a TA, their decisions, applied without regrading.

Works on a `grader batch` output folder after (or between) runs: lists the groups of written
answers awaiting review, records decisions in the gradebook (who and when), then derives every
affected grade again from the result as graded, and rewrites results/<id>.json, grades.csv and
report.html from the gradebook, as the batch does at the end of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.atomic import write_bytes, write_json
from grader.batch.decisions_file import Ruling, export_decisions, read_decisions
from grader.batch.gradebook import Decision, Gradebook, GroupKey, now
from grader.batch.outputs import write_outputs
from grader.batch.review import AnswerGroup, answer_groups, reviewed_record
from grader.errors import GraderInputError
from grader.rubric.model import LoadedRubric, load_rubric

GRADEBOOK = "gradebook.sqlite"


@dataclass(frozen=True)
class Applied:
    """What recording decisions changed, for the TA's confirmation line."""

    groups: int
    submissions: int
    pending_groups: int


class Review:
    """One batch output folder, opened for review with the rubric its last run graded with."""

    def __init__(self, outdir: Path, rubric: Path | None = None) -> None:
        self.outdir = Path(outdir)
        path = self.outdir / GRADEBOOK
        if not path.is_file():
            raise GraderInputError(
                f"{outdir}: no {GRADEBOOK} here (is it a `grader batch` output folder?)"
            )
        self.book = Gradebook(path)
        run = self.book.latest_run()
        if run is None:
            raise GraderInputError(f"{path}: no batch run is recorded in this gradebook")
        self.loaded: LoadedRubric = load_rubric(rubric or Path(run["rubric"]))
        if self.loaded.sha256 != run["rubric_sha256"]:
            raise GraderInputError(
                f"{self.loaded.path} changed since {outdir} was graded with it: rerun "
                "`grader batch` with it first, so that grades and decisions agree"
            )

    def close(self) -> None:
        self.book.close()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def groups(self) -> list[AnswerGroup]:
        parts = (part for record in self.book.records() for part in record.reviews)
        return answer_groups(parts, self.book.decisions())

    def find(self, group_ids: Sequence[str]) -> list[AnswerGroup]:
        by_id = {group.id: group for group in self.groups()}
        unknown = [group_id for group_id in group_ids if group_id not in by_id]
        if unknown:
            raise GraderInputError(
                f"{self.outdir}: no answer group {', '.join(unknown)} awaits review here "
                f"(`grader review {self.outdir}` lists the {len(by_id)} groups)"
            )
        return [by_id[group_id] for group_id in group_ids]

    def decide(self, rulings: Sequence[Ruling], by: str) -> Applied:
        """Record the rulings that change something (same credit and feedback: kept, with
        their first author and time) and apply them."""
        at = now()
        for ruling in rulings:
            if not 0 <= ruling.credit <= 1:
                raise GraderInputError(
                    f"credit must be between 0 and 1 (a fraction of the part's points), "
                    f"got {ruling.credit:g}"
                )
        changed = [
            Decision(v.group.question, v.group.part, v.group.key[2], v.credit, v.feedback, by, at)
            for v in rulings
            if v.group.decision is None
            or (v.group.decision.credit, v.group.decision.feedback) != (v.credit, v.feedback)
        ]
        return self._record(changed, [], by, at)

    def withdraw(self, groups: Sequence[AnswerGroup], by: str) -> Applied:
        keys = [group.key for group in groups if group.decision is not None]
        return self._record([], keys, by, now())

    def import_file(self, path: Path, by: str) -> Applied:
        rulings = read_decisions(path, self.groups(), self.loaded.rubric, self.loaded.path)
        return self.decide(rulings, by)

    def export_file(self, path: Path) -> int:
        groups = self.groups()
        write_bytes(path, export_decisions(groups, self.outdir).encode())
        return len(groups)

    def _record(
        self, decided: list[Decision], withdrawn: list[GroupKey], by: str, at: str
    ) -> Applied:
        """Store the decisions with the grades they give to every submission in their groups
        (one transaction), then rewrite those submissions' results.json and the class's
        outputs."""
        decisions = self.book.decisions()
        decisions.update((d.key, d) for d in decided)
        for key in withdrawn:
            decisions.pop(key, None)
        keys = {d.key for d in decided} | set(withdrawn)
        updated = [
            reviewed_record(record, decisions)
            for record in self.book.records()
            if record.graded_result is not None and any(r.key in keys for r in record.reviews)
        ]
        self.book.review(decided, withdrawn, [record for record, _ in updated], by=by, at=at)
        for record, results in updated:
            if record.results_path:  # stored as the batch named it, maybe relative to its cwd
                write_json(self.outdir / "results" / Path(record.results_path).name, results)
        write_outputs(self.outdir, self.loaded, self.book.records(), decisions)
        pending = sum(1 for group in self.groups() if group.decision is None)
        return Applied(len(keys), len(updated), pending)
