"""Starter files that `rentwatch init` copies into a folder: a config and a building registry."""
