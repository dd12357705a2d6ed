"""YAML I/O: loaders, the round-trip document, scalar spans and manifest reading."""
