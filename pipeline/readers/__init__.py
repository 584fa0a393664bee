"""Readers: bytes of one input format → raw values with where they came from."""
