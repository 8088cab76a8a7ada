"""Temporal workflows. Modules here stay deterministic: no DB, FastAPI or settings imports."""
