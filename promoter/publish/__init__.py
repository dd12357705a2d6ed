"""Publish: commit a promotion through the forge API and write the pull/merge request a reviewer reads."""
