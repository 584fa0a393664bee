"""Typed text in a picture → characters with a score and a position, offline.

The recogniser is PP-OCRv4's (shipped inside the ``rapidocr-onnxruntime`` wheel, run by
onnxruntime on one thread per reader process). kaohe finds the text lines itself (see
``optics.text_lines``) and runs only the recogniser, on every line of a page in one
batch, decoding its per-step probabilities here: that gives each character's place on the
line (to find the grade boxes and the signature gap between printed words) and lets a cell
that holds a count be read over the characters a count can have — a lone “0” is otherwise
as likely “o” or “。”.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from .optics import Gray

#: Characters a count or a number of days can be written with (and the words around it).
NUMBER_CHARS = frozenset(
    "0123456789.．０１２３４５６７８９〇零一二两三四五六七八九十半个次天日月号无/／—-–"
    "（）()、，,；;：: 事病婚丧产年休假共计合"
)
_HEIGHT = 48
#: Narrowest input the recogniser is given: PaddleOCR pads to 320 px; 160 reads the same
#: typed text (a name, a short word) ~1.8x faster (measured on this project's scans)
MIN_WIDTH = 160
#: ... except a count: a lone digit is read surely only with PaddleOCR's own 320.
NUMBER_MIN_WIDTH = 320


class OcrUnavailable(Exception):
    """The recogniser cannot be loaded (its package is not installed)."""


@dataclass(frozen=True)
class Reading:
    """One recognised line piece: text, the mean probability of its characters (0–1), and
    each character's horizontal span in the piece's own pixels."""

    text: str
    score: float
    spans: tuple[tuple[float, float], ...]
    #: Each character's probability, in order.
    confidences: tuple[float, ...] = ()


@dataclass
class _Model:
    session: Any
    input_name: str
    characters: list[str]
    allowed_numbers: npt.NDArray[np.bool_]


@lru_cache(maxsize=1)
def _model() -> _Model:
    import importlib.util
    from pathlib import Path

    # the wheel is used for its model files only: its own code (and the GUI OpenCV it asks
    # for) is never imported
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - installed by the README's command
        raise OcrUnavailable(str(exc)) from exc
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable("rapidocr-onnxruntime")
    root = Path(next(iter(spec.submodule_search_locations)))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one thread per reader process: the workers share cores
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(root / "models" / "ch_PP-OCRv4_rec_infer.onnx"),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    metadata = session.get_modelmeta().custom_metadata_map
    if "character" in metadata:
        characters = metadata["character"].splitlines()
    else:  # pragma: no cover - the 1.4 models carry their character list
        raise OcrUnavailable("the recognition model has no character list")
    characters = ["", *characters, " "]  # CTC blank first, space last, as PaddleOCR does
    allowed = np.array([c in NUMBER_CHARS or c in ("", " ") for c in characters])
    return _Model(session, session.get_inputs()[0].name, characters, allowed)


def available() -> bool:
    try:
        _model()
    except OcrUnavailable:
        return False
    return True


def recognize(pieces: list[Gray], numbers: list[bool] | None = None) -> list[Reading]:
    """Read each grey line piece; ``numbers[i]`` reads piece i over ``NUMBER_CHARS`` only.

    One piece a run: a batch pads every piece to its widest, which costs more than the
    separate runs save (measured: ~1.5x slower in batches of eight, even of like widths)."""
    model = _model()
    flags = numbers or [False] * len(pieces)
    return [_recognize(model, piece, number) for piece, number in zip(pieces, flags, strict=True)]


def _recognize(model: _Model, piece: Gray, numbers: bool) -> Reading:
    import cv2

    h, w = piece.shape[:2]
    narrowest = NUMBER_MIN_WIDTH if numbers else MIN_WIDTH
    width = int(_HEIGHT * max(_ratio(piece), narrowest / _HEIGHT))
    tensor = np.zeros((1, 3, _HEIGHT, width), dtype=np.float32)
    resized_w = min(width, math.ceil(_HEIGHT * w / max(h, 1)))
    resized = cv2.resize(piece, (max(resized_w, 1), _HEIGHT)).astype(np.float32)
    tensor[0, :, :, : resized.shape[1]] = (resized / 255 - 0.5) / 0.5
    probabilities = model.session.run(None, {model.input_name: tensor})[0]
    step_width = width / probabilities.shape[1] * (h / _HEIGHT)
    return _decode(probabilities[0], model, numbers, step_width)


def confident_part(reading: Reading, floor: float) -> Reading:
    """Only the characters read with at least ``floor`` (a signature line: the printed
    words and a legible date stay, the scribble of a signature goes)."""
    keep = [i for i, c in enumerate(reading.confidences) if c >= floor]
    if not keep:
        return Reading("", 1.0, (), ())
    kept = tuple(reading.confidences[i] for i in keep)
    return Reading(
        "".join(reading.text[i] for i in keep),
        float(np.mean(kept)),
        tuple(reading.spans[i] for i in keep),
        kept,
    )


def _ratio(piece: Gray) -> float:
    return float(piece.shape[1]) / float(max(piece.shape[0], 1))


def _decode(
    probabilities: npt.NDArray[np.float32], model: _Model, numbers: bool, step_width: float
) -> Reading:
    """Greedy CTC decoding: the most likely class per step, repeats and blanks dropped."""
    if numbers:
        probabilities = np.where(model.allowed_numbers, probabilities, 0.0)
    best = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    text: list[str] = []
    scores: list[float] = []
    spans: list[tuple[float, float]] = []
    previous = -1
    for step, klass in enumerate(best):
        klass = int(klass)
        if klass != previous and klass != 0:
            text.append(model.characters[klass])
            scores.append(float(confidence[step]))
            spans.append((step * step_width, (step + 1) * step_width))
        elif klass == previous and klass != 0 and spans:
            spans[-1] = (spans[-1][0], (step + 1) * step_width)
        previous = klass
    if numbers and scores:
        # a restricted reading is only as sure as the share of the full probability it kept
        kept = float(np.mean(confidence[best != 0])) if np.any(best != 0) else 0.0
        scores = [min(s, kept) for s in scores]
    score = float(np.mean(scores)) if scores else 0.0
    return Reading("".join(text), score, tuple(spans), tuple(scores))
