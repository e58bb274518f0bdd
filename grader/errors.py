"""Errors that stop the grader before grading starts, each naming the file at fault.

Anything that goes wrong inside a student's submission is not an error of the grader: it is
reported in that question's feedback. These are for the inputs an instructor or TA controls.
"""


class GraderInputError(Exception):
    """A problem with an input the user controls; the message is meant to be printed as is."""


class RubricError(GraderInputError):
    """The rubric file is unreadable, not YAML, or does not match the rubric format."""


class ReferenceModuleError(GraderInputError):
    """The reference module cannot be imported or lacks a function the rubric names."""


class SubmissionError(GraderInputError):
    """The submission path does not exist or cannot be read."""


class SandboxSettingError(GraderInputError, ValueError):
    """A sandbox setting that cannot be used (an environment variable, the folder of the uid
    claims): named, with what to do, and reported as the TA's input error it is rather than
    as the grader failing internally."""
