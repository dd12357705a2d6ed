"""Config: `.promoter.yaml` validated against its shipped JSON Schema, as typed objects."""
