"""Render: the targets a change affects (overlays, charts, folders) turned into objects mapped back to their sources."""
