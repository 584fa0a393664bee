"""QR codes of form codes, fast: the one QR kaohe prints on every sheet, made per person.

A QR code is fixed by its content, version, error-correction level and mask. kaohe always
uses level H and mask 0, so for versions 1–4 (up to 50 alphanumeric characters at level H:
every form code) everything but the data is the same for every sheet: the function
patterns and the order of the data modules are computed once per version, and a sheet
costs only its Reed–Solomon code words and one pass over ~350 modules (~0.25 ms; segno,
which serves every case, takes ~0.8 ms with the mask fixed). The text is one alphanumeric
segment: for form codes (编号 up to 10 characters) that is bit-for-bit segno's symbol with
``mask=0`` (segno codes a run of 11 or more digits as a numeric segment, equally valid);
tests compare the two on form codes and decode every fast symbol back. Anything else is
left to segno.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHA_INDEX = {c: i for i, c in enumerate(_ALPHANUMERIC)}
#: Level H: version → (data code words per block, blocks, error-correction words per block).
_BLOCKS_H = {1: (9, 1, 17), 2: (16, 1, 28), 3: (13, 2, 22), 4: (9, 4, 16)}
_ALIGNMENT = {1: (), 2: (6, 18), 3: (6, 22), 4: (6, 26)}


def _format_bits(level: int = 0b10, mask: int = 0) -> int:
    """Format information: level (H is 0b10) and mask, BCH(15,5)-coded, XOR 0x5412."""
    data = level << 3 | mask
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    return (data << 10 | remainder) ^ 0x5412


Matrix = list[list[int]]


def matrix(text: str) -> tuple[tuple[int, ...], ...]:
    """The QR symbol of ``text`` at level H, mask 0, as rows of 0/1 (1 dark), no quiet zone."""
    return tuple(map(tuple, symbol(text).tolist()))


def symbol(text: str) -> np.ndarray:
    """``matrix`` as a uint8 array: made here when it can be (``fast_array``), else by segno."""
    fast = fast_array(text)
    if fast is not None:
        return fast
    import segno

    made = segno.make(text, error="h", micro=False, boost_error=False, mask=0)
    return np.array([[1 if m else 0 for m in row] for row in made.matrix], dtype=np.uint8)


def fast_array(text: str) -> np.ndarray | None:
    """The symbol of ``text`` as a uint8 array (1 dark), or None when it is not one this
    module makes (see the module's docstring). The data modules are placed in one numpy
    step over the version's fixed placement order."""
    if not text or text.isdigit() or any(c not in _ALPHA_INDEX for c in text):
        return None  # (digits alone: segno's numeric mode; other text: its byte mode)
    for version in _BLOCKS_H:
        data_words, blocks, _ = _BLOCKS_H[version]
        bits = 4 + 9 + 11 * (len(text) // 2) + 6 * (len(text) % 2)
        if bits <= data_words * blocks * 8:
            break
    else:
        return None
    words = _data_words(text, data_words * blocks)
    stream = np.unpackbits(np.array(_interleave(words, version), dtype=np.uint8))
    base, rows, cols, mask = _placement(version)
    placed = np.zeros(len(rows), dtype=np.uint8)  # remainder bits past the stream are 0
    count = min(len(rows), len(stream))
    placed[:count] = stream[:count]
    grid = base.copy()
    grid[rows, cols] = placed ^ mask
    return grid


@lru_cache(maxsize=4)
def _placement(version: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``_layout`` as arrays: the fixed modules, the data modules' rows and columns in
    placement order, and mask 0 over them."""
    base, order = _layout(version)
    rows = np.array([r for r, _ in order], dtype=np.intp)
    cols = np.array([c for _, c in order], dtype=np.intp)
    mask = ((rows + cols) % 2 == 0).astype(np.uint8)
    return np.array(base, dtype=np.uint8), rows, cols, mask


def _data_words(text: str, capacity: int) -> list[int]:
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> (length - 1 - i)) & 1 for i in range(length))

    put(0b0010, 4)  # alphanumeric mode
    put(len(text), 9)
    for start in range(0, len(text) - 1, 2):
        put(_ALPHA_INDEX[text[start]] * 45 + _ALPHA_INDEX[text[start + 1]], 11)
    if len(text) % 2:
        put(_ALPHA_INDEX[text[-1]], 6)
    put(0, min(4, capacity * 8 - len(bits)))  # terminator
    bits.extend([0] * (-len(bits) % 8))
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = (0xEC, 0x11)
    words.extend(pad[i % 2] for i in range(capacity - len(words)))
    return words


def _interleave(words: list[int], version: int) -> list[int]:
    data_words, blocks, ec_words = _BLOCKS_H[version]
    chunks = [words[i * data_words : (i + 1) * data_words] for i in range(blocks)]
    codes = [_reed_solomon(chunk, ec_words) for chunk in chunks]
    out = [chunk[i] for i in range(data_words) for chunk in chunks]
    out += [code[i] for i in range(ec_words) for code in codes]
    return out


@lru_cache(maxsize=1)
def _field() -> tuple[tuple[int, ...], tuple[int, ...]]:
    exp = [0] * 512
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return tuple(exp), tuple(log)


@lru_cache(maxsize=8)
def _generator(degree: int) -> tuple[int, ...]:
    exp, log = _field()
    poly = [1]
    for power in range(degree):
        nxt = [0] * (len(poly) + 1)
        for i, coefficient in enumerate(poly):
            nxt[i] ^= coefficient
            if coefficient:
                nxt[i + 1] ^= exp[log[coefficient] + power]
        poly = nxt
    return tuple(poly)


@lru_cache(maxsize=8)
def _products(degree: int) -> tuple[int, ...]:
    """For each byte f, the generator's coefficients after its leading 1 times f, packed
    big-endian into one integer of ``degree`` bytes."""
    exp, log = _field()
    coefficients = _generator(degree)[1:]
    table = [0]
    for factor in range(1, 256):
        packed = 0
        for coefficient in coefficients:
            packed = (packed << 8) | (exp[log[coefficient] + log[factor]] if coefficient else 0)
        table.append(packed)
    return tuple(table)


def _reed_solomon(data: list[int], degree: int) -> list[int]:
    """The error-correction words of ``data``: polynomial division by the generator, the
    remainder held as one integer (a byte-wide shift register), one table look-up a word."""
    table = _products(degree)
    shift, mask = 8 * (degree - 1), (1 << (8 * degree)) - 1
    remainder = 0
    for word in data:
        remainder = ((remainder << 8) & mask) ^ table[(remainder >> shift) ^ word]
    return list(remainder.to_bytes(degree, "big"))


@lru_cache(maxsize=4)
def _layout(version: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, int], ...]]:
    """The function patterns and format information of ``version`` (the same for every
    sheet at level H, mask 0), and the data modules in placement order."""
    size = 17 + 4 * version
    grid: Matrix = [[0] * size for _ in range(size)]
    reserved = [[False] * size for _ in range(size)]

    def mark(row: int, col: int, dark: int) -> None:
        grid[row][col] = dark
        reserved[row][col] = True

    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        for r in range(-1, 8):
            for c in range(-1, 8):
                row, col = top + r, left + c
                if 0 <= row < size and 0 <= col < size:
                    ring = max(abs(r - 3), abs(c - 3))
                    mark(row, col, 1 if ring in (0, 1, 3) else 0)
    for i in range(8, size - 8):
        mark(6, i, (i + 1) % 2)
        mark(i, 6, (i + 1) % 2)
    centres = _ALIGNMENT[version]
    for row in centres:
        for col in centres:
            if reserved[row][col]:
                continue
            for r in range(-2, 3):
                for c in range(-2, 3):
                    mark(row + r, col + c, 1 if max(abs(r), abs(c)) in (0, 2) else 0)
    mark(size - 8, 8, 1)  # the dark module
    bits = [(_format_bits() >> i) & 1 for i in range(15)]
    for i in range(15):
        bit = bits[i]
        # around the top-left finder
        if i < 6:
            mark(i, 8, bit)
        elif i < 8:
            mark(i + 1, 8, bit)  # row 6 is the timing pattern
        elif i == 8:
            mark(8, 7, bit)  # so is column 6
        else:
            mark(8, 14 - i, bit)
        # beside the other two finders
        if i < 8:
            mark(8, size - 1 - i, bit)
        else:
            mark(size - 15 + i, 8, bit)
    order: list[tuple[int, int]] = []
    col = size - 1
    upward = True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for row in rows:
            for c in (col, col - 1):
                if not reserved[row][c]:
                    order.append((row, c))
        upward = not upward
        col -= 2
    return tuple(tuple(r) for r in grid), tuple(order)
