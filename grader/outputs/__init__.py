"""Writers of a graded submission: the terminal table and the HTML report (results.json is
Gradescope's form of the result model)."""
