"""The single-submission front ends: self-check and student kits, the Gradescope entry point
and autograder builder, and `grader doctor`. The command line (`grader.cli`) sits above them.
"""
