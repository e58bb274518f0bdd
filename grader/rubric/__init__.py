"""The rubric model: what to ask a submission for, how to judge it, and the time budget.

Lowest stage above the checks: everything else reads a `LoadedRubric`; nothing here runs code.
"""
