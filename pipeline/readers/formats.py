"""Which reader reads a returned file, by its name; one entry point for every format."""

from __future__ import annotations

from .docx import read_docx
from .legacy import LEGACY, read_legacy
from .limits import DEFAULT_LIMITS, Limits
from .pdf import read_pdf
from .raw import NoTextLayer, RawSheet, ReadFailure
from .sheet import read_xlsx

WORD = (".docx", ".docm")
SPREADSHEETS = (".xlsx", ".xlsm")
IMAGES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".webp")
#: Pictures the scan reader opens (Pillow); the others are named in the message.
READABLE_IMAGES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
BUNDLES = (".zip",)


def suffix_of(name: str) -> str:
    """``PurePosixPath(name).suffix.lower()`` with ``\\`` as a separator too, by string
    operations (ingest asks three times a file; pathlib's parsing cost more than hashing)."""
    last = name.rpartition("/")[2]
    if "\\" in name or last in ("", "."):  # the last part is further left, or there is none
        parts = [part for part in name.replace("\\", "/").split("/") if part and part != "."]
        last = parts[-1] if parts else ""
    dot = last.rfind(".")
    return last[dot:].lower() if 0 < dot < len(last) - 1 else ""


def format_of(name: str) -> str:
    """The format recorded for a file: docx, pdf, doc, image … or its bare suffix."""
    suffix = suffix_of(name)
    if suffix in WORD:
        return "docx"
    if suffix in SPREADSHEETS:
        return "xlsx"
    if suffix in IMAGES:
        return "image"
    if suffix == ".pdf":
        return "pdf"
    if suffix in LEGACY:
        return suffix.lstrip(".")
    return suffix.lstrip(".") or "unknown"


def _scanned(data: bytes, *, pdf: bool) -> list[RawSheet]:
    """A scan (a PDF of page pictures) or a photo, read by OCR when the recogniser is
    installed (numpy, the model and the scan reader are imported only then: a Word or PDF
    run never needs them)."""
    from . import ocr, scan

    if not ocr.available():
        raise ReadFailure(
            "SCANNED_NEEDS_REVIEW",
            "这是扫描件或照片；本机没有安装识别模型（见 README 的安装命令），已列入待人工核对",
        )
    return scan.read_scanned_pdf(data) if pdf else scan.read_image(data)


def read_any(name: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[RawSheet]:
    """Read one returned file: its sheets (usually one; a unit may put several people's
    sheets in one file). Raise ReadFailure with the code to record when it cannot be read."""
    suffix = suffix_of(name)
    if suffix in WORD:
        return read_docx(data, limits)
    if suffix in SPREADSHEETS:
        return read_xlsx(data, limits)
    if suffix == ".pdf":
        try:
            return read_pdf(data)
        except NoTextLayer:
            return _scanned(data, pdf=True)
    if suffix in LEGACY:
        return read_legacy(data, suffix, limits)
    if suffix in READABLE_IMAGES:
        return _scanned(data, pdf=False)
    if suffix in IMAGES:
        raise ReadFailure(
            "UNSUPPORTED_FORMAT",
            f"{suffix} 图片暂不能读取：请转存为 JPG 或 PNG（苹果手机可在“设置—相机—格式”中选"
            "“兼容性最佳”）后重交，或列入待人工核对",
        )
    shown = suffix or "（无扩展名）"
    raise ReadFailure(
        "UNSUPPORTED_FORMAT",
        f"暂不能读取 {shown} 文件，请让本人在 Word/WPS 中另存为 .docx 后重新提交",
    )
