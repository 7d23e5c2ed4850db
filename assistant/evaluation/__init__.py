"""The evaluation: question files, scoring, running a question set, reports and baselines."""
