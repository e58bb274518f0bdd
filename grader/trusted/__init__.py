"""The trusted side: the reference module, the cases it answers, the expected answers, and
`grader validate`, which runs all of it before any student is graded.

Nothing here ever sees student code or student data.
"""
