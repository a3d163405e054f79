"""Outputs: follow-up events and the digest."""
