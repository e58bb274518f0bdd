"""TA review of written answers at class scale: answer groups, decisions, reruns, outputs.

Each test grades a small class through the real batch (review_class.py: built results in place
of the grading workers), then drives `grader review` through click's runner; the gradebook is
a real SQLite file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from review_class import ReviewClass

from grader.batch.review import group_id, normalise_reading
from grader.cli import main

ADA, BOB, CY = "ada", "bob", "cy"


def groups(klass: ReviewClass) -> dict[str, tuple[str, int]]:
    """The gradebook's groups as (reading, students) by id, through the review command."""
    from grader.batch.decide import Review

    with Review(klass.outdir) as review:
        return {g.id: (g.members[0].shown, len(g.members)) for g in review.groups()}


def group_of(reading: str) -> str:
    return group_id(("1", "the answer", normalise_reading(reading, fold_case=False)))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> ReviewClass:
    """Ada and Bob wrote n/2 (Bob with spaces), Cy wrote n/3; nobody decided yet."""
    graded = ReviewClass(tmp_path_factory.mktemp("class"), {ADA: "n/2", BOB: "n / 2", CY: "n/3"})
    graded.batch()
    return graded


@pytest.fixture
def klass(graded_class: ReviewClass, tmp_path: Path) -> ReviewClass:
    """A copy of the graded class of its own for each test."""
    return graded_class.copy(tmp_path / "copy")


def test_identical_readings_of_a_part_form_one_group_with_every_student(
    klass: ReviewClass,
) -> None:
    assert sorted(count for _, count in groups(klass).values()) == [1, 2]
    assert groups(klass)[group_of("n/2")][1] == 2


def test_a_part_awaiting_review_is_pending_in_grades_csv_never_zero(klass: ReviewClass) -> None:
    row = klass.csv_rows()[ADA]
    assert (row["Q1"], row["total"], row["graded_max"], row["pending"]) == (
        "pending",
        "1",
        "1",
        "2",
    )


def test_the_listing_shows_each_group_with_its_size_reading_example_line_and_reason(
    klass: ReviewClass,
) -> None:
    listing = klass.review().output
    for text in (group_of("n/2"), "n/2", "line 7:  ANSWER = n/2", "OCR repairs", "2 answer groups"):
        assert text in listing


def test_a_decision_scores_every_member_of_the_group_without_grading_again(
    klass: ReviewClass,
) -> None:
    result = klass.review("--decide", group_of("n/2"), "--credit", "0.5", "--by", "tess")
    assert result.exit_code == 0, result.output
    rows = klass.csv_rows()
    assert [(rows[s]["Q1"], rows[s]["total"], rows[s]["pending"]) for s in (ADA, BOB, CY)] == [
        ("1", "2", "0"),
        ("1", "2", "0"),
        ("pending", "1", "2"),
    ]
    with sqlite3.connect(klass.outdir / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM gradings").fetchone() == (3,)


def test_a_decision_is_recorded_with_who_and_when_and_the_groups_key(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n / 2"), "--credit", "1", "--by", "tess")
    with sqlite3.connect(klass.outdir / "gradebook.sqlite") as db:
        rows = db.execute(
            "SELECT question, part, reading, credit, decided_by, decided_at FROM review_decisions"
        ).fetchall()
    assert [row[:5] for row in rows] == [("1", "the answer", "n/2", 1.0, "tess")]
    assert rows[0][5].startswith("20")


def test_the_results_json_of_a_decided_part_counts_it_and_says_a_ta_reviewed_it(
    klass: ReviewClass,
) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1", "--feedback", "Right: n/2.")
    results = klass.results(BOB)
    question = results["tests"][0]
    assert (results["score"], question["score"], question["max_score"]) == (3.0, 2.0, 2.0)
    assert "reviewed by a TA: read as n / 2, line 7" in question["output"]
    assert "Right: n/2." in question["output"]


def test_a_students_feedback_does_not_name_the_ta(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1", "--by", "tess")
    assert "tess" not in json.dumps(klass.results(ADA))


@pytest.mark.parametrize("credit", ["1.5", "-0.1", "nan"])
def test_a_credit_outside_zero_to_one_is_refused(klass: ReviewClass, credit: str) -> None:
    result = klass.review("--decide", group_of("n/2"), "--credit", credit)
    assert result.exit_code == 2
    assert "between 0 and 1" in result.output


def test_an_unknown_group_is_refused_naming_it(klass: ReviewClass) -> None:
    result = klass.review("--decide", "deadbeef", "--credit", "1")
    assert result.exit_code == 2
    assert "no answer group deadbeef" in result.output


def test_undo_makes_a_decided_group_pending_again(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1")
    klass.review("--undo", group_of("n/2"))
    assert klass.csv_rows()[ADA]["Q1"] == "pending"


def test_a_rerun_keeps_the_decision_of_an_unchanged_reading(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1")
    klass.write(ADA, "n/2 ")  # a new file (regraded), read the same way
    _, executor = klass.batch()
    assert executor.graded == [ADA]
    assert klass.csv_rows()[ADA]["Q1"] == "2"


def test_a_rerun_sends_a_changed_reading_back_to_pending(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1")
    klass.write(ADA, "n/4")
    klass.batch()
    rows = klass.csv_rows()
    assert (rows[ADA]["Q1"], rows[BOB]["Q1"]) == ("pending", "2")


def test_a_new_submission_read_like_a_decided_group_takes_its_decision(
    klass: ReviewClass,
) -> None:
    klass.review("--decide", group_of("n/3"), "--credit", "0")
    klass.write("dee", "n/3")
    klass.batch()
    assert klass.csv_rows()["dee"]["Q1"] == "0"


def test_an_exported_file_filled_in_and_imported_decides_its_groups(
    klass: ReviewClass, tmp_path: Path
) -> None:
    path = tmp_path / "decisions.yaml"
    assert klass.review("--export", path).exit_code == 0
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["groups"]:
        if entry["read_as"] == "n/3":
            entry.update(credit=0.25, feedback="n/3 is off by a factor.")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = klass.review("--import", path, "--by", "tess")
    assert result.exit_code == 0, result.output
    rows = klass.csv_rows()
    assert (rows[CY]["Q1"], rows[ADA]["Q1"]) == ("0.5", "pending")


def _import_edited(klass: ReviewClass, tmp_path: Path, **changes: object) -> str:
    path = tmp_path / "decisions.yaml"
    klass.review("--export", path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["groups"][1].update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = klass.review("--import", path)
    assert result.exit_code == 2
    return result.output


def test_a_decisions_file_naming_a_part_the_rubric_lacks_is_refused_naming_file_and_field(
    klass: ReviewClass, tmp_path: Path
) -> None:
    output = _import_edited(klass, tmp_path, part="the answr", credit=1)
    assert "decisions.yaml: groups[1].part" in output
    assert "has no part 'the answr'" in output


def test_a_decisions_file_with_a_credit_above_one_is_refused_naming_the_field(
    klass: ReviewClass, tmp_path: Path
) -> None:
    output = _import_edited(klass, tmp_path, credit=2)
    assert "decisions.yaml: groups[1].credit" in output


def test_a_decisions_file_with_a_misspelt_key_is_refused_naming_it(
    klass: ReviewClass, tmp_path: Path
) -> None:
    assert "groups[1].credits" in _import_edited(klass, tmp_path, credits=1)


def test_a_refused_decisions_file_records_nothing(klass: ReviewClass, tmp_path: Path) -> None:
    path = tmp_path / "decisions.yaml"
    klass.review("--export", path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["groups"][0]["credit"] = 1
    data["groups"][1]["credit"] = 3
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    klass.review("--import", path)
    with sqlite3.connect(klass.outdir / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM review_decisions").fetchone() == (0,)


def test_the_report_counts_parts_pending_review_per_question_and_lists_the_groups(
    klass: ReviewClass,
) -> None:
    klass.review("--decide", group_of("n/3"), "--credit", "0")
    page = (klass.outdir / "report.html").read_text(encoding="utf-8")
    assert '<span class="value">2</span><span class="label">Parts pending review' in page
    assert "<td class='num review'>2</td>" in page  # question 1: Ada's and Bob's
    assert f'data-group="{group_of("n/2")}"' in page
    assert "0 credit, by" in page
    assert "2 written answers of the class await a TA&#x27;s review" in page


def test_regrade_diff_shows_a_decision_as_the_cause_of_a_change(
    klass: ReviewClass, tmp_path: Path
) -> None:
    before = tmp_path / "before"
    shutil.copytree(klass.outdir, before)
    klass.review("--decide", group_of("n/2"), "--credit", "0.5", "--by", "tess")
    result = CliRunner().invoke(
        main, ["regrade-diff", str(before), str(klass.outdir), "--csv", str(tmp_path / "c.csv")]
    )
    assert result.exit_code == 0, result.output
    changes = (tmp_path / "c.csv").read_text(encoding="utf-8")
    cause = f"1 the answer: TA review, group {group_of('n/2')}, credit 0.5 by tess"
    assert changes.count(cause) == 2  # Ada and Bob; Cy's score did not change
    assert "cy" not in changes


def test_a_batch_counts_the_answers_and_groups_still_awaiting_review(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n/3"), "--credit", "0")
    summary, _ = klass.batch()
    assert summary.awaiting_review == (2, 1)


def test_every_decision_and_withdrawal_stays_in_the_review_log(klass: ReviewClass) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1", "--by", "tess")
    klass.review("--decide", group_of("n/2"), "--credit", "0.5", "--by", "uma")
    klass.review("--undo", group_of("n/2"), "--by", "vic")
    with sqlite3.connect(klass.outdir / "gradebook.sqlite") as db:
        log = db.execute("SELECT credit, decided_by FROM review_log ORDER BY rowid").fetchall()
    assert log == [(1.0, "tess"), (0.5, "uma"), (None, "vic")]


def test_regrade_diff_says_when_an_answer_read_differently_is_pending_again(
    klass: ReviewClass, tmp_path: Path
) -> None:
    klass.review("--decide", group_of("n/2"), "--credit", "1")
    before = tmp_path / "before"
    shutil.copytree(klass.outdir, before)
    klass.write(ADA, "n/5")
    klass.batch()
    result = CliRunner().invoke(
        main, ["regrade-diff", str(before), str(klass.outdir), "--csv", str(tmp_path / "c.csv")]
    )
    assert result.exit_code == 0, result.output
    changes = (tmp_path / "c.csv").read_text(encoding="utf-8")
    assert f"read differently (group {group_of('n/5')}), pending review again" in changes
