"""Pure parsing rules for numbers, dates and language: no I/O, no tables."""
