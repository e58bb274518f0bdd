"""Grading one submission: the engine asks the sandbox for values, judges them with the
checks, credits mistakes and conventions, and produces the result model.
"""
