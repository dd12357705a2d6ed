"""Flows: the one place where stages meet (bump, promote, rollback, check, preview); orchestration only."""
