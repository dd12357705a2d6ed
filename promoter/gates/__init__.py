"""Gates: promotion gates judged from Git history (never a cluster); see engine.py and builtin/."""
