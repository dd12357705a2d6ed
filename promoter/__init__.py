"""promoter: CI gatekeeper and manifest-promotion bot for GitOps repositories."""

__version__ = "0.1.0"
