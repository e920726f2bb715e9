"""Briefing generator package."""
