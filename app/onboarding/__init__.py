"""Onboarding of municipalities: the pipeline with dated history, and creating a municipality."""
