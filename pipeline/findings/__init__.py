"""Datasets drawn from several stages at once (key numbers, year-to-date) that charts and sentences show."""
