"""Locate: every image reference in a repository (file, line, YAML path, style, value), and where an app lives."""
