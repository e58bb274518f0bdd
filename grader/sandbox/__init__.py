"""The process boundary between trusted grading code and the student's submission."""
