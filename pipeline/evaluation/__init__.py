"""Scoring the article engine against a labelled corpus (`python -m pipeline eval`).

`labels` reads a labels folder, `article_scores` and `claim_scores` compare the pipeline's
tables with it, `report` prints and serialises the figures, `targets` holds the goals and the
floors CI asserts. This package sits above `tables` in the import order; nothing below it
imports it. docs/evaluation.md explains every scoring rule.
"""
