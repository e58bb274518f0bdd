"""Reading the input of `grader batch`: a Gradescope export, zipped or unpacked, or a plain folder.

Gradescope's "Export Submissions" zip holds `submission_metadata.yml` and one
`submission_<id>/` folder per active submission, usually under one top folder such as
`assignment_123_export/`. A plain folder holds one sub-folder or one file per student instead,
and has no metadata: each is named after its entry.

Everything inside a submission folder of a zip was chosen by a student: names, sizes, links,
compression. So each submission is checked and extracted on its own, and one whose entries would
escape its staging folder, are links, are encrypted, are damaged or decompress past the limits is
refused with a detail for the TA; the rest of the batch is still graded. Only a zip that cannot
be read at all, or a metadata file that is not what Gradescope writes, stops the batch: those
are the TA's inputs, not a student's.
"""

from __future__ import annotations

import lzma
import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from grader.errors import GraderInputError
from grader.submission.locate import JUNK_PARTS, printable

METADATA = "submission_metadata.yml"
OK, REFUSED, MISSING = "ok", "refused", "missing"

_MIB = 1 << 20
_CHUNK = 64 << 10
_RATIO_FLOOR = 32 * _MIB
"""Entries up to this size are never refused for their compression ratio: data files (a .npy
of zeros compresses 1000:1) compress well without being bombs, and the byte limit bounds what
a submission can cost whatever its ratio."""

_FOLDER = re.compile(r"submission_([0-9A-Za-z_-]+)")
"""Gradescope's folder names. The id becomes a folder name under staging, so it may hold only
characters that cannot form a path of their own ('..', '/')."""

_DRIVE = re.compile(r"[A-Za-z]:")

_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    EOFError,
    ValueError,
    OSError,
)
"""What a damaged or unsupported entry raises while it is read (a bad CRC, bad deflate data, an
unknown compression method, a truncated stream, an offset before the start of the file, a
local name that is not the UTF-8 it claims to be, bz2's OSError), and what writing a file
whose name the file system refuses raises."""


@dataclass(frozen=True)
class ZipLimits:
    """How much one submission may expand to. Sizes are counted on the bytes actually
    decompressed, since a zip's headers are written by whoever made it and can lie."""

    max_submission_bytes: int = 200 * _MIB
    max_entry_ratio: float = 200
    max_entries: int = 10_000


@dataclass(frozen=True)
class Submitter:
    """One student on a submission, as Gradescope lists them (sid is text: it keeps its zeros)."""

    name: str
    sid: str
    email: str


@dataclass(frozen=True)
class ExportedSubmission:
    """One submission to grade, or why it cannot be: `path` is None unless status is "ok"."""

    submission_id: str
    submitters: tuple[Submitter, ...]
    path: Path | None
    status: str
    detail: str = ""
    created_at: str = ""


@dataclass
class ExportContents:
    """The submissions found in an input, sorted by id, and notes on what was skipped."""

    submissions: list[ExportedSubmission]
    source: Path
    notes: list[str]


@dataclass(frozen=True)
class _Metadata:
    """What submission_metadata.yml says about one submission folder."""

    submitters: tuple[Submitter, ...]
    created_at: str


class _Refused(Exception):
    """Why one submission of a zip is refused; raised while it is checked or extracted."""


def read_export(source: Path, staging: Path, limits: ZipLimits = ZipLimits()) -> ExportContents:
    """The submissions in `source` (a Gradescope export zip, the same unpacked, or a plain
    folder). Zip submissions are extracted under `staging/<submission_id>/`, replacing what an
    earlier run left there; folder submissions are graded where they are."""
    if source.is_dir():
        root = _export_root(source)
        if root is None:
            return _read_plain_folder(source)
        return _read_export_folder(source, root)
    if not source.is_file():
        raise GraderInputError(f"{source}: no such file or folder")
    return _read_zip(source, staging, limits)


def _quote(name: str) -> str:
    """A name as a TA should read it: quoted, with control characters escaped, so a crafted
    name cannot forge lines of a report."""
    return repr(printable(name))


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(_quote(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _is_submission_folder(name: str) -> bool:
    return _FOLDER.fullmatch(name) is not None


def _id_of(folder: str) -> str:
    """The id in a submission folder's name: '123456' for 'submission_123456'."""
    return folder.removeprefix("submission_")


def _id_order(submission_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order (Gradescope's are numbers), then any others by name."""
    numeric = submission_id.isascii() and submission_id.isdigit()
    return (0, int(submission_id), "") if numeric else (1, 0, submission_id)


def _hidden_or_junk(name: str) -> bool:
    return name.startswith(".") or name in JUNK_PARTS


# Metadata ---------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    kinds: dict[type, str] = {str: "text", list: "a list", dict: "a mapping"}
    return kinds.get(type(value), type(value).__name__)


def _invalid(label: str, where: str, expected: str, value: Any) -> GraderInputError:
    return GraderInputError(f"{label}: {where}: expected {expected}, got {_describe(value)}")


def _field(mapping: dict[Any, Any], name: str) -> tuple[str, Any]:
    """The key used and its value: Gradescope writes Ruby symbols (':name'), which a TA who
    edits the file by hand may well write without the colon."""
    for key in (":" + name, name):
        if key in mapping:
            return key, mapping[key]
    return ":" + name, None


def _text(
    mapping: dict[Any, Any], name: str, where: str, label: str, *, numbers: bool = False
) -> str:
    key, value = _field(mapping, name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an unquoted sid; its leading zeros, if any, were lost in the YAML
    raise _invalid(label, f"{where}.{key}", "text", value)


def _parse_metadata(data: bytes, label: str) -> dict[str, _Metadata]:
    """Who submitted each folder and when. Only yaml.safe_load is used: the file comes from
    outside, and a full loader would build arbitrary Python objects from it."""
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as error:
        raise GraderInputError(f"{label}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise _invalid(label, "the whole file", "a mapping of submission folders", document)
    parsed: dict[str, _Metadata] = {}
    for folder, entry in document.items():
        if not isinstance(folder, str) or not _is_submission_folder(folder):
            raise GraderInputError(
                f"{label}: {folder!r}: expected a folder name such as submission_123456"
            )
        if not isinstance(entry, dict):
            raise _invalid(label, folder, "a mapping", entry)
        key, people = _field(entry, "submitters")
        if people is None:
            people = []
        if not isinstance(people, list):
            raise _invalid(label, f"{folder}.{key}", "a list", people)
        submitters = []
        for index, person in enumerate(people):
            where = f"{folder}.{key}[{index}]"
            if not isinstance(person, dict):
                raise _invalid(label, where, "a mapping", person)
            submitters.append(
                Submitter(
                    _text(person, "name", where, label),
                    _text(person, "sid", where, label, numbers=True),
                    _text(person, "email", where, label),
                )
            )
        key, created = _field(entry, "created_at")
        if isinstance(created, date):  # YAML reads Gradescope's timestamps as datetimes
            created = created.isoformat()
        elif created is None:
            created = ""
        elif not isinstance(created, str):
            raise _invalid(label, f"{folder}.{key}", "a date", created)
        parsed[folder] = _Metadata(tuple(submitters), created)
    return parsed


def _assemble(
    source: Path,
    metadata: dict[str, _Metadata],
    found: dict[str, ExportedSubmission],
    notes: list[str],
) -> ExportContents:
    """Join the folders found with their metadata: a listed folder that is absent is "missing",
    and a folder that is not listed is still graded, without names."""
    submissions = []
    for folder in sorted(metadata.keys() | found.keys(), key=lambda f: _id_order(_id_of(f))):
        about = metadata.get(folder)
        submission = found.get(folder)
        if submission is None:
            submission = ExportedSubmission(
                _id_of(folder),
                (),
                None,
                MISSING,
                f"{folder} is listed in {METADATA}, but its folder is not in the export",
            )
        elif about is None:
            notes.append(f"{folder} has no entry in {METADATA}: graded without submitter names")
        if about is not None:
            submission = replace(
                submission, submitters=about.submitters, created_at=about.created_at
            )
        submissions.append(submission)
    return ExportContents(submissions, source, notes)


# Folders ----------------------------------------------------------------------------------------


def _export_root(folder: Path) -> Path | None:
    """Where the export's metadata is: in the folder, or in its only visible sub-folder (the
    zip's top folder, unpacked). Requiring that sub-folder to be alone keeps a plain folder
    from being taken for an export because one student uploaded a file of that name."""
    if (folder / METADATA).is_file():
        return folder
    visible = [child for child in folder.iterdir() if not _hidden_or_junk(child.name)]
    if len(visible) == 1 and visible[0].is_dir() and (visible[0] / METADATA).is_file():
        return visible[0]
    return None


def _link_refused(submission_id: str, path: Path) -> ExportedSubmission:
    return ExportedSubmission(
        submission_id,
        (),
        None,
        REFUSED,
        f"{_quote(path.name)} is a symbolic link, which may point "
        "anywhere on this machine; it was not followed",
    )


def _read_export_folder(source: Path, root: Path) -> ExportContents:
    """An unpacked export: submission folders are graded in place (locate() never follows
    the links inside them)."""
    metadata_file = root / METADATA
    try:
        data = metadata_file.read_bytes()
    except OSError as error:
        raise GraderInputError(f"{metadata_file}: cannot be read ({error.strerror})") from error
    metadata = _parse_metadata(data, str(metadata_file))
    found: dict[str, ExportedSubmission] = {}
    junk, ignored = [], []
    for child in sorted(root.iterdir()):
        name = child.name
        if name == METADATA:
            continue
        if _hidden_or_junk(name):
            junk.append(name)
        elif _is_submission_folder(name) and child.is_symlink():
            found[name] = _link_refused(_id_of(name), child)
        elif _is_submission_folder(name) and child.is_dir():
            found[name] = ExportedSubmission(_id_of(name), (), child, OK)
        else:
            ignored.append(name)
    notes = []
    if junk:
        notes.append(f"skipped {_listing(junk)}")
    if ignored:
        notes.append(f"ignored {_listing(ignored)}: not a submission_<id> folder")
    return _assemble(source, metadata, found, notes)


def _read_plain_folder(source: Path) -> ExportContents:
    """One sub-folder or file per student, named by it; hidden entries and junk are skipped."""
    submissions, notes, junk, ignored = [], [], [], []
    for child in sorted(source.iterdir()):
        if _hidden_or_junk(child.name):
            junk.append(child.name)
            continue
        name = printable(child.name)
        if child.is_symlink():
            submission = _link_refused(name, child)
        elif child.is_dir() or child.is_file():
            submission = ExportedSubmission(name, (), child, OK)
        else:
            ignored.append(child.name)
            continue
        submissions.append(replace(submission, submitters=(Submitter(name, "", ""),)))
    if junk:
        notes.append(f"skipped {_listing(junk)}")
    if ignored:
        notes.append(f"ignored {_listing(ignored)}: neither a file nor a folder")
    submissions.sort(key=lambda submission: _id_order(submission.submission_id))
    return ExportContents(submissions, source, notes)


# Zips -------------------------------------------------------------------------------------------


def _parts(name: str) -> tuple[str, ...]:
    """The path an entry names, as folders and file: backslashes are separators (some Windows
    tools write them), a drive letter and empty or '.' parts are dropped; '..' is kept, for
    _unsafe to see."""
    parts = name.replace("\\", "/").split("/")
    if parts and _DRIVE.fullmatch(parts[0]):
        parts = parts[1:]
    return tuple(part for part in parts if part not in ("", "."))


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith(("/", "\\"))


def _is_junk(parts: tuple[str, ...]) -> bool:
    """Finder's and Python's leftovers, never graded (see submission.JUNK_PARTS)."""
    return any(part in JUNK_PARTS for part in parts) or (
        bool(parts) and (parts[-1] == ".DS_Store" or parts[-1].startswith("._"))
    )


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    """Why writing the entry under its submission's staging folder could land elsewhere."""
    name = info.filename
    if name.startswith(("/", "\\")):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if ".." in _parts(name):
        return "climbs out of its folder with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link, which may point anywhere on this machine"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def _find_metadata(
    source: Path, entries: list[tuple[zipfile.ZipInfo, tuple[str, ...]]]
) -> tuple[zipfile.ZipInfo, tuple[str, ...]]:
    """The metadata entry and the folder holding it (the export's root): the zip's root, or
    its one top folder."""
    found = [
        (info, parts[:-1])
        for info, parts in entries
        if len(parts) <= 2
        and parts[-1:] == (METADATA,)
        and not _is_dir(info)
        and not _is_junk(parts)
    ]
    at_root = [item for item in found if not item[1]]
    if at_root:
        return at_root[0]
    if len(found) == 1:
        return found[0]
    if found:
        raise GraderInputError(
            f"{source}: holds several exports ("
            f"{_listing([info.filename for info, _ in found])}); "
            "grade them one at a time"
        )
    raise GraderInputError(
        f"{source}: no {METADATA}, so this is not a Gradescope export. "
        "To grade a folder with one sub-folder or file per student, unpack "
        "the zip and give the folder."
    )


def _read_zip(source: Path, staging: Path, limits: ZipLimits) -> ExportContents:
    try:
        archive = zipfile.ZipFile(source)
    # Besides BadZipFile: a multi-disk zip raises NotImplementedError, a name that is not the
    # UTF-8 its flag claims raises UnicodeDecodeError (a ValueError).
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError) as error:
        raise GraderInputError(f"{source}: not a readable zip file ({error})") from error
    with archive:
        entries = [(info, _parts(info.filename)) for info in archive.infolist()]
        metadata_info, root = _find_metadata(source, entries)
        label = f"{source}: {metadata_info.filename}"
        try:
            data = archive.read(metadata_info)
        except _READ_ERRORS as error:
            raise GraderInputError(f"{label}: cannot be extracted ({error})") from error
        metadata = _parse_metadata(data, label)
        members: dict[str, list[tuple[zipfile.ZipInfo, tuple[str, ...]]]] = {}
        junk, ignored = 0, []
        for info, parts in entries:
            if info is metadata_info:
                continue
            inside = parts[len(root) :] if parts[: len(root)] == root else ()
            in_folder = (
                bool(inside)
                and _is_submission_folder(inside[0])
                and (len(inside) > 1 or _is_dir(info))
            )
            # Even for junk: a folder holding only junk is graded, as empty.
            group = members.setdefault(inside[0], []) if in_folder else None
            if _is_junk(parts):
                junk += 1
            elif group is not None:
                group.append((info, inside[1:]))
            else:
                ignored.append(info.filename)
        staging.mkdir(parents=True, exist_ok=True)
        found = {
            folder: _extract(archive, folder, group, staging, limits)
            for folder, group in members.items()
        }
    notes = []
    if junk:
        notes.append(f"skipped {junk} junk entries (__MACOSX, .DS_Store, ._* and the like)")
    if ignored:
        notes.append(
            f"ignored {len(ignored)} entries outside any submission_<id>/ folder: "
            f"{_listing(ignored)}"
        )
    return _assemble(source, metadata, found, notes)


def _extract(
    archive: zipfile.ZipFile,
    folder: str,
    group: list[tuple[zipfile.ZipInfo, tuple[str, ...]]],
    staging: Path,
    limits: ZipLimits,
) -> ExportedSubmission:
    """Extract one submission under staging, or refuse it whole, leaving nothing behind.
    Everything the central directory can tell is checked before anything is written."""
    submission_id = _id_of(folder)
    target = staging / submission_id
    if target.exists():
        shutil.rmtree(target)
    try:
        if len(group) > limits.max_entries:
            raise _Refused(
                f"{folder} has {len(group):,} entries, more than the "
                f"{limits.max_entries:,} a submission may have"
            )
        for info, _ in group:
            reason = _unsafe(info)
            if reason is not None:
                raise _Refused(
                    f"entry {_quote(info.filename)} {reason}; nothing of this "
                    "submission was extracted"
                )
        target.mkdir(parents=True)
        total = 0
        for info, inside in group:
            if not _is_dir(info):
                total = _write(archive, info, target.joinpath(*inside), total, limits)
    except _Refused as refusal:
        if target.exists():
            shutil.rmtree(target)
        return ExportedSubmission(submission_id, (), None, REFUSED, str(refusal))
    return ExportedSubmission(submission_id, (), target, OK)


def _write(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, total: int, limits: ZipLimits
) -> int:
    """Stream one entry to path, counting the bytes really decompressed and stopping before
    the chunk that would pass a limit is written; return the submission's new total."""
    written = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, path.open("wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                total += len(chunk)
                if total > limits.max_submission_bytes:
                    raise _Refused(
                        f"the submission decompresses to more than "
                        f"{limits.max_submission_bytes / _MIB:g} MiB, the limit for one "
                        f"submission; extraction stopped at entry {_quote(info.filename)}"
                    )
                if written > _RATIO_FLOOR and written > limits.max_entry_ratio * max(
                    info.compress_size, 1
                ):
                    raise _Refused(
                        f"entry {_quote(info.filename)} expands more than "
                        f"{limits.max_entry_ratio:g} times ({written / _MIB:.1f} MiB so far "
                        f"from {info.compress_size:,} compressed bytes), the limit for entries "
                        f"over {_RATIO_FLOOR / _MIB:g} MiB; it looks like a zip bomb"
                    )
                out.write(chunk)
    except _READ_ERRORS as error:
        raise _Refused(f"entry {_quote(info.filename)} cannot be extracted: {error}") from error
    return total
