"""Limits of the files kaohe writes, known to the layers that check values before writing
(without importing the writers themselves)."""

#: The most characters an Excel cell holds; longer text is cut with a visible note.
CELL_LIMIT = 32767
