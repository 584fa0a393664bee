"""Pipeline stages: each one step of the quarter, callable as a library."""
