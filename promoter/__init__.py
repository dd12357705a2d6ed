"""promoter: CI gatekeeper and manifest-promotion bot for GitOps repositories."""

__version__ = "0.1.0"
# The name on PyPI (`pip install gitops-promoter`); the command and the import package are `promoter`.
__distribution__ = "gitops-promoter"
