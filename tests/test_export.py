"""Reading `grader batch` input: Gradescope exports (zipped or unpacked) and plain folders.

Every export here is built with zipfile in tmp_path. The zip safety tests check what matters to
a TA: the hostile submission is refused on its own with a reason, the others are still graded,
and nothing is written outside the staging folder or beyond the limits.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from grader.batch.export import MISSING, OK, REFUSED, Submitter, ZipLimits, read_export
from grader.errors import GraderInputError

TOP = "assignment_1_export/"

ADA = """\
submission_1:
  :submitters:
  - :name: Ada Lovelace
    :sid: '0012345'
    :email: ada@example.edu
  :created_at: 2020-02-10 23:51:07.938335000 Z
  :score: 0.0
  :status: processed
  :results: {score: 0.0, tests: []}
  :history: []
"""


def metadata(*ids: int) -> str:
    """Metadata listing one student per submission id."""
    return "".join(
        f"submission_{i}:\n  :submitters:\n  - :name: Student {i}\n"
        f"    :sid: 's{i}'\n    :email: s{i}@example.edu\n"
        for i in ids
    )


def make_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def by_id(contents) -> dict:
    return {s.submission_id: s for s in contents.submissions}


@pytest.mark.parametrize("top", [TOP, ""], ids=["top-folder", "no-top-folder"])
def test_symbol_keys_are_read_and_student_ids_keep_their_leading_zeros(tmp_path, top):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{top}submission_metadata.yml": ADA, f"{top}submission_1/hw2.py": "X = 1\n"},
    )
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert submission.submission_id == "1"
    assert submission.submitters == (Submitter("Ada Lovelace", "0012345", "ada@example.edu"),)
    assert submission.created_at == "2020-02-10T23:51:07.938335+00:00"
    assert submission.status == OK
    assert submission.path == tmp_path / "staging" / "1"
    assert files_under(submission.path) == {"hw2.py": b"X = 1\n"}


def test_an_unquoted_numeric_student_id_becomes_text(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {
            f"{TOP}submission_metadata.yml": "submission_1:\n  :submitters:\n  - :name: Bo\n"
            "    :sid: 4242\n",
            f"{TOP}submission_1/hw2.py": "",
        },
    )
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert submission.submitters == (Submitter("Bo", "4242", ""),)


def test_keys_without_a_colon_are_accepted(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {
            f"{TOP}submission_metadata.yml": "submission_1:\n  submitters:\n  - name: Bo\n"
            "    sid: '007'\n    email: bo@example.edu\n"
            "  created_at: '2021-01-01'\n",
            f"{TOP}submission_1/hw2.py": "",
        },
    )
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert submission.submitters == (Submitter("Bo", "007", "bo@example.edu"),)
    assert submission.created_at == "2021-01-01"


def test_a_group_submission_keeps_every_submitter_in_order(tmp_path):
    group = (
        "submission_7:\n  :submitters:\n"
        "  - {':name': Grace Hopper, ':sid': '1', ':email': grace@example.edu}\n"
        "  - {':name': Alan Turing, ':sid': '2', ':email': alan@example.edu}\n"
        "  - {':name': Ada Lovelace}\n"
    )
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": group, f"{TOP}submission_7/hw2.py": ""},
    )
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert submission.submitters == (
        Submitter("Grace Hopper", "1", "grace@example.edu"),
        Submitter("Alan Turing", "2", "alan@example.edu"),
        Submitter("Ada Lovelace", "", ""),
    )


def test_nested_files_are_extracted_and_junk_is_not(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {
            f"{TOP}submission_metadata.yml": metadata(1),
            f"{TOP}submission_1/my_hw/hw2.py": "X = 1\n",
            f"{TOP}submission_1/my_hw/lib/helpers.py": "Y = 2\n",
            f"{TOP}submission_1/.DS_Store": b"\0\1",
            f"{TOP}submission_1/my_hw/._hw2.py": b"\0\5\26\7",
            f"{TOP}submission_1/my_hw/__pycache__/hw2.cpython-311.pyc": b"\0",
            f"__MACOSX/{TOP}submission_1/my_hw/._hw2.py": b"\0\5\26\7",
        },
    )
    contents = read_export(source, tmp_path / "staging")
    assert files_under(contents.submissions[0].path) == {
        "my_hw/hw2.py": b"X = 1\n",
        "my_hw/lib/helpers.py": b"Y = 2\n",
    }
    assert any("skipped 4 junk entries" in note for note in contents.notes)


def test_an_unpacked_export_reads_like_the_zip(tmp_path):
    files = {
        f"{TOP}submission_metadata.yml": ADA + metadata(2, 3),
        f"{TOP}submission_1/hw2.py": "X = 1\n",
        f"{TOP}submission_2/work/hw2.ipynb": "{}",
        f"{TOP}submission_2/work/data.npy": b"\x93NUMPY",
    }
    zipped = read_export(make_zip(tmp_path / "export.zip", files), tmp_path / "staging")
    unpacked_root = tmp_path / "unpacked"
    for name, content in files.items():
        (unpacked_root / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked_root / name).write_bytes(
            content.encode() if isinstance(content, str) else content
        )
    unpacked = read_export(unpacked_root, tmp_path / "unused")

    def summary(contents):
        return [
            (
                s.submission_id,
                s.submitters,
                s.status,
                s.created_at,
                files_under(s.path) if s.path else None,
            )
            for s in contents.submissions
        ]

    assert summary(unpacked) == summary(zipped)
    assert [s.status for s in zipped.submissions] == [OK, OK, MISSING]
    assert unpacked.submissions[0].path == unpacked_root / TOP / "submission_1"
    assert not (tmp_path / "unused").exists()


def test_a_plain_folder_has_one_submission_per_sub_folder_or_file(tmp_path):
    (tmp_path / "alice" / "deep").mkdir(parents=True)
    (tmp_path / "alice" / "deep" / "hw2.py").write_text("X = 1\n")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "__MACOSX").mkdir()
    contents = read_export(tmp_path, tmp_path / ".staging")
    assert [(s.submission_id, s.submitters, s.path, s.status) for s in contents.submissions] == [
        ("alice", (Submitter("alice", "", ""),), tmp_path / "alice", OK),
        ("bob.ipynb", (Submitter("bob.ipynb", "", ""),), tmp_path / "bob.ipynb", OK),
    ]
    assert contents.notes == ["skipped '.DS_Store', '__MACOSX'"]


def test_submissions_are_sorted_by_numeric_id(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {
            f"{TOP}submission_metadata.yml": metadata(100, 9, 10),
            **{f"{TOP}submission_{i}/hw2.py": "" for i in (10, 100, 9)},
        },
    )
    contents = read_export(source, tmp_path / "staging")
    assert [s.submission_id for s in contents.submissions] == ["9", "10", "100"]


def test_reading_again_into_the_same_staging_folder_starts_afresh(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": metadata(1), f"{TOP}submission_1/hw2.py": "X = 1\n"},
    )
    staging = tmp_path / "staging"
    read_export(source, staging)
    (staging / "1" / "stale.py").write_text("left by an earlier run")
    [submission] = read_export(source, staging).submissions
    assert files_under(submission.path) == {"hw2.py": b"X = 1\n"}


def test_a_listed_submission_whose_folder_is_absent_is_missing(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": metadata(1, 2), f"{TOP}submission_1/hw2.py": ""},
    )
    missing = by_id(read_export(source, tmp_path / "staging"))["2"]
    assert (missing.status, missing.path) == (MISSING, None)
    assert missing.submitters == (Submitter("Student 2", "s2", "s2@example.edu"),)
    assert "submission_2" in missing.detail
    assert "not in the export" in missing.detail


def test_a_folder_without_metadata_is_graded_with_a_note(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {
            f"{TOP}submission_metadata.yml": metadata(1),
            f"{TOP}submission_1/hw2.py": "",
            f"{TOP}submission_5/hw2.py": "X = 5\n",
        },
    )
    contents = read_export(source, tmp_path / "staging")
    unlisted = by_id(contents)["5"]
    assert (unlisted.status, unlisted.submitters) == (OK, ())
    assert files_under(unlisted.path) == {"hw2.py": b"X = 5\n"}
    assert any("submission_5 has no entry" in note for note in contents.notes)


def test_path_traversal_refuses_only_that_submission_and_writes_nothing_outside(tmp_path):
    (tmp_path / "in").mkdir()
    escaped = tmp_path / "escaped.py"
    source = make_zip(
        tmp_path / "in" / "export.zip",
        {
            "submission_metadata.yml": metadata(1, 2, 3),
            "submission_1/hw2.py": "X = 1\n",
            "submission_2/hw2.py": "X = 2\n",
            "submission_2/../../evil.py": "owned = True\n",
            "/submission_3/hw2.py": "X = 3\n",
            str(escaped): "owned = True\n",
        },
    )
    contents = read_export(source, tmp_path / "out" / "staging")
    found = by_id(contents)
    assert [(s.submission_id, s.status) for s in contents.submissions] == [
        ("1", OK),
        ("2", REFUSED),
        ("3", REFUSED),
    ]
    assert "'submission_2/../../evil.py'" in found["2"].detail
    assert "'..'" in found["2"].detail
    assert "absolute path" in found["3"].detail
    assert any(str(escaped) in note for note in contents.notes)
    assert sorted(
        p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
    ) == ["in/export.zip", "out/staging/1/hw2.py"]


def test_a_symlink_entry_is_refused(tmp_path):
    link = zipfile.ZipInfo(f"{TOP}submission_4/leak.py")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as archive:
        archive.writestr(f"{TOP}submission_metadata.yml", metadata(4))
        archive.writestr(f"{TOP}submission_4/hw2.py", "")
        archive.writestr(link, "/etc/shadow")
    [submission] = read_export(tmp_path / "export.zip", tmp_path / "staging").submissions
    assert (submission.status, submission.path) == (REFUSED, None)
    assert "symbolic link" in submission.detail
    assert not (tmp_path / "staging" / "4").exists()


def test_an_encrypted_entry_is_refused(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_4/hw2.py": "X = 4\n", f"{TOP}submission_metadata.yml": metadata(4)},
    )
    data = bytearray(source.read_bytes())
    central = data.index(b"PK\x01\x02")  # the first entry's central directory record
    data[central + 8] |= 0x1  # general purpose flags: bit 0, encrypted
    source.write_bytes(bytes(data))
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert submission.status == REFUSED
    assert "encrypted" in submission.detail


def test_a_zip_bomb_is_refused_and_the_rest_is_graded(tmp_path):
    source = tmp_path / "export.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{TOP}submission_metadata.yml", metadata(1, 6))
        archive.writestr(f"{TOP}submission_1/hw2.py", "X = 1\n")
        with archive.open(f"{TOP}submission_6/bomb.npy", "w") as bomb:
            zeros = bytes(1 << 20)
            for _ in range(300):
                bomb.write(zeros)
    assert source.stat().st_size < 1 << 20
    contents = read_export(source, tmp_path / "staging")
    found = by_id(contents)
    assert found["1"].status == OK
    assert (found["6"].status, found["6"].path) == (REFUSED, None)
    assert "200 times" in found["6"].detail
    assert f"'{TOP}submission_6/bomb.npy'" in found["6"].detail
    assert files_under(tmp_path / "staging") == {"1/hw2.py": b"X = 1\n"}


def test_a_submission_over_the_size_limit_is_refused(tmp_path):
    source = tmp_path / "export.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{TOP}submission_metadata.yml", metadata(8))
        archive.writestr(f"{TOP}submission_8/a.bin", bytes(600 << 10))
        archive.writestr(f"{TOP}submission_8/b.bin", bytes(600 << 10))
    limits = ZipLimits(max_submission_bytes=1 << 20)
    [submission] = read_export(source, tmp_path / "staging", limits).submissions
    assert submission.status == REFUSED
    assert "more than 1 MiB" in submission.detail
    assert f"'{TOP}submission_8/b.bin'" in submission.detail
    assert not (tmp_path / "staging" / "8").exists()


def test_a_submission_with_too_many_entries_is_refused(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {
            f"{TOP}submission_metadata.yml": metadata(9),
            **{f"{TOP}submission_9/f{i}.py": "" for i in range(4)},
        },
    )
    limits = ZipLimits(max_entries=3)
    [submission] = read_export(source, tmp_path / "staging", limits).submissions
    assert submission.status == REFUSED
    assert "4 entries, more than the 3" in submission.detail


def test_an_entry_with_a_bad_crc_is_refused(tmp_path):
    source = tmp_path / "export.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{TOP}submission_metadata.yml", metadata(1, 5))
        archive.writestr(f"{TOP}submission_1/hw2.py", "X = 1\n")
        archive.writestr(f"{TOP}submission_5/hw2.py", "DAMAGED_CONTENT = 1\n")
    data = bytearray(source.read_bytes())
    data[data.index(b"DAMAGED_CONTENT")] ^= 0xFF
    source.write_bytes(bytes(data))
    found = by_id(read_export(source, tmp_path / "staging"))
    assert found["1"].status == OK
    assert found["5"].status == REFUSED
    assert "CRC" in found["5"].detail
    assert not (tmp_path / "staging" / "5").exists()


def test_entry_names_that_are_not_utf8_are_extracted(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": metadata(1), f"{TOP}submission_1/rXsumX.py": "X = 1\n"},
    )
    # Old Windows tools write names in cp437 without the UTF-8 flag: \x82 is 'é' there.
    source.write_bytes(source.read_bytes().replace(b"rXsumX", b"r\x82sum\x82"))
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert files_under(submission.path) == {"résumé.py": b"X = 1\n"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "submission_123:\n  :submitters:\n  - :name: Ada\n    :sid: [1, 2]\n",
            "submission_123.:submitters[0].:sid: expected text, got a list",
        ),
        (
            "submission_123:\n  :submitters: Ada\n",
            "submission_123.:submitters: expected a list, got text",
        ),
        (
            "- submission_123\n",
            "the whole file: expected a mapping of submission folders, got a list",
        ),
        ("submission_123: {:submitters: [\n", "not valid YAML"),
    ],
    ids=["sid-is-a-list", "submitters-is-text", "not-a-mapping", "not-yaml"],
)
def test_malformed_metadata_is_an_input_error_naming_the_file_and_field(tmp_path, text, message):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": text, f"{TOP}submission_123/hw2.py": ""},
    )
    with pytest.raises(GraderInputError) as error:
        read_export(source, tmp_path / "staging")
    assert f"{source}: {TOP}submission_metadata.yml: " in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize("damage", ["not-a-zip", "truncated"])
def test_a_file_that_is_not_a_readable_zip_is_an_input_error(tmp_path, damage):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": metadata(1), f"{TOP}submission_1/hw2.py": "X = 1\n"},
    )
    data = source.read_bytes()
    source.write_bytes(b"name,score\nada,7\n" if damage == "not-a-zip" else data[: len(data) // 2])
    with pytest.raises(GraderInputError, match="not a readable zip file") as error:
        read_export(source, tmp_path / "staging")
    assert str(source) in str(error.value)


def test_a_zip_without_metadata_is_an_input_error(tmp_path):
    source = make_zip(tmp_path / "students.zip", {"alice/hw2.py": "X = 1\n"})
    with pytest.raises(GraderInputError, match="not a Gradescope export"):
        read_export(source, tmp_path / "staging")


def test_a_linked_submission_folder_in_an_unpacked_export_is_refused(tmp_path):
    root = tmp_path / "export"
    (root / "submission_1").mkdir(parents=True)
    (root / "submission_metadata.yml").write_text(metadata(1, 2))
    (root / "submission_2").symlink_to(tmp_path)
    found = by_id(read_export(root, tmp_path / "staging"))
    assert found["1"].status == OK
    assert (found["2"].status, found["2"].path) == (REFUSED, None)
    assert "symbolic link" in found["2"].detail


def test_a_submission_holding_only_junk_is_graded_as_empty(tmp_path):
    source = make_zip(
        tmp_path / "export.zip",
        {f"{TOP}submission_metadata.yml": metadata(1), f"{TOP}submission_1/.DS_Store": b"\0"},
    )
    [submission] = read_export(source, tmp_path / "staging").submissions
    assert submission.status == OK
    assert files_under(submission.path) == {}
