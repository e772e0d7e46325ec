"""Defects and testing (slide 9): the testers' workplace — defect log with retest, releases, test
runs, acceptance on real data, quality metrics."""
