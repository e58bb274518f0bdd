"""grader: sandboxed, mistake-aware grading of numeric and deep-learning homework."""

__version__ = "0.1.0"
