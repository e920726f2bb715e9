"""Rendering the Quarto sources to the site and PDF, with Quarto or the built-in engine."""
