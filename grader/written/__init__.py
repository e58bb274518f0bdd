"""Answers written on a sheet rather than in code: formulas read from LaTeX (`latex_math`),
found in a sheet's section (`formulas`, trusted side) and evaluated in the sandboxed child
(`evaluate`, numpy and the standard library only)."""
