"""Reading answers written on a sheet (Markdown, LaTeX or OCR text) into values the grader can
judge: sections, the readers of each kind of answer, LaTeX math and formulas."""
