"""`grader batch`: reading a class's export, warm workers that grade in parallel, the SQLite
gradebook (its only writer is `run`), the class outputs, progress and regrade-diff.
"""
