"""Finding the student's files and staging them for the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.rubric.files import SubmissionFiles
from grader.submission.locate import locate, missing_entry_message, stage

SPEC = SubmissionFiles(entry="hw2.py", also=["*.py", "*.npy"])


def test_the_shallowest_entry_is_graded_and_the_others_are_named(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "hw2.py").write_text("X = 1\n")
    (tmp_path / "a" / "b" / "hw2.py").write_text("X = 2\n")
    found = locate(tmp_path, SPEC)
    assert found.entry == tmp_path / "a" / "hw2.py"
    assert "ignored a/b/hw2.py" in found.notes[0]


def test_junk_folders_and_hidden_files_are_ignored(tmp_path):
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "hw2.py").write_text("garbage\x00")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "hw2.py").write_text("X = 1\n")
    assert locate(tmp_path, SPEC).entry == tmp_path / "work" / "hw2.py"


def test_helper_files_beside_the_entry_are_staged(tmp_path):
    (tmp_path / "hw2.py").write_text("from helpers import X\n")
    (tmp_path / "helpers.py").write_text("X = 1\n")
    (tmp_path / "notes.txt").write_text("not code\n")
    work = tmp_path / "work"
    work.mkdir()
    assert stage(locate(tmp_path, SPEC), work) == "hw2.py"
    assert sorted(p.name for p in work.iterdir()) == ["helpers.py", "hw2.py"]


def test_symlinks_inside_a_submission_are_never_staged(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the reference answers")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "hw2.py").write_text("X = 1\n")
    (submission / "leak.py").symlink_to(secret)
    (submission / "data.npy").symlink_to("/etc/passwd")
    work = tmp_path / "work"
    work.mkdir()
    stage(locate(submission, SPEC), work)
    assert sorted(p.name for p in work.iterdir()) == ["hw2.py"]


def test_a_linked_entry_file_is_not_found(tmp_path):
    (tmp_path / "real.py").write_text("X = 1\n")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "hw2.py").symlink_to(tmp_path / "real.py")
    assert locate(submission, SPEC).entry is None


def test_the_content_hash_covers_the_graded_files_only(tmp_path):
    (tmp_path / "hw2.py").write_text("X = 1\n")
    before = locate(tmp_path, SPEC).content_sha256
    (tmp_path / "notes.txt").write_text("added later\n")
    assert locate(tmp_path, SPEC).content_sha256 == before
    (tmp_path / "helpers.py").write_text("Y = 2\n")
    assert locate(tmp_path, SPEC).content_sha256 != before


def test_a_single_file_is_the_whole_submission_and_hashes_like_a_folder_of_it(tmp_path):
    """Files beside a single file may be a classmate's (one file per student): never staged."""
    (tmp_path / "alone").mkdir()
    (tmp_path / "alone" / "hw2.py").write_text("import helpers\n")
    (tmp_path / "hw2.py").write_text("import helpers\n")
    (tmp_path / "helpers.py").write_text("X = 1\n")
    as_file = locate(tmp_path / "hw2.py", SPEC)
    assert as_file.files == (tmp_path / "hw2.py",) and as_file.root == tmp_path / "hw2.py"
    assert as_file.content_sha256 == locate(tmp_path / "alone", SPEC).content_sha256
    work = tmp_path / "work"
    work.mkdir()
    stage(as_file, work)
    assert [p.name for p in work.iterdir()] == ["hw2.py"]


def test_the_content_hash_tells_apart_files_that_concatenate_alike(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "hw2.py").write_bytes(b"X = 1\n\0zz.py\0Y = 2\n")
    (two / "hw2.py").write_bytes(b"X = 1\n")
    (two / "zz.py").write_bytes(b"Y = 2\n")
    assert locate(one, SPEC).content_sha256 != locate(two, SPEC).content_sha256


def test_missing_entry_message_lists_what_was_uploaded(tmp_path):
    (tmp_path / "homework2.py").write_text("X = 1\n")
    (tmp_path / "scratch.py").write_text("Y = 1\n")
    message = missing_entry_message(locate(tmp_path, SPEC), SPEC)
    assert "hw2.py was not found" in message and "homework2.py" in message
    assert "several Python files" in message


def test_one_locating_rule_for_a_file_and_for_a_folder_holding_it(tmp_path):
    # A student's my_hw2_final.py: `grader check kit my_hw2_final.py` (a file), and Gradescope
    # or a batch export (a folder holding it, nested as uploaded) must grade the same file.
    alone = tmp_path / "my_hw2_final.py"
    alone.write_text("X = 1\n")
    uploaded = tmp_path / "submission_1" / "hw2"
    uploaded.mkdir(parents=True)
    (uploaded / "my_hw2_final.py").write_text("X = 1\n")
    (uploaded / "notes.txt").write_text("hi\n")
    as_file, as_folder = locate(alone, SPEC), locate(tmp_path / "submission_1", SPEC)
    assert as_folder.entry == uploaded / "my_hw2_final.py"
    assert as_file.notes == as_folder.notes
    assert as_file.notes[0].startswith("graded my_hw2_final.py as hw2.py")
    assert as_file.content_sha256 == as_folder.content_sha256


def test_a_path_that_does_not_exist_is_an_input_error(tmp_path):
    with pytest.raises(SubmissionError, match="no such file or directory"):
        locate(tmp_path / "absent", SPEC)


def test_a_single_file_is_its_own_entry(tmp_path):
    single = tmp_path / "my_answers.py"
    single.write_text("X = 1\n")
    found = locate(single, SPEC)
    assert found.entry == single and "graded my_answers.py as hw2.py" in found.notes[0]
    assert isinstance(found.root, Path)
