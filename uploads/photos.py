"""Verifying and normalising one photo uploaded by outlet staff from a phone.

Why each step:

- An upload is trusted for nothing: its name and content type are ignored, the
  bytes are opened by Pillow restricted to JPEG, PNG, WebP and HEIC, and fully
  decoded, so what is stored is a picture and not a polyglot or a half file.
- The pixel count is checked from the header *before* decoding: a few KB can
  declare 100,000 × 100,000 pixels (a decompression bomb). Pillow's own bomb
  check is honoured too, and our limit never exceeds its warning threshold.
- The EXIF GPS position and capture time are read (the upload is checked
  against the outlet's position with them), then everything else is dropped:
  the stored JPEG is re-encoded from pixels with no EXIF, ICC, XMP or comment,
  so the device, the owner's other whereabouts and the like never leave the
  server. The EXIF orientation is applied first, so the picture stands upright
  without it; an ICC profile (iPhones shoot Display P3) is converted to sRGB
  rather than dropped, so colours stay as shot.
- Re-encoding is deterministic, so the sha256 of the stored bytes is a content
  address: the same upload twice gives the same key and is stored once.
- A 12-megapixel JPEG is decoded at a reduced DCT scale (`Image.draft`) when
  that still gives at least `DRAFT_MIN_FRACTION` of the target size: half the
  time of a full decode and a quarter of the memory, for a stored long side of
  e.g. 2,000 px instead of 2,048.
- Decoding takes memory (a 12-megapixel image is 36 MB as RGB), so at most
  `configure_concurrency(n)` photos are processed at once per process; more
  uploads wait for a slot rather than grow the process.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, Final
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from profiles.hours import TIMEZONE

try:
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - pillow-heif is a dependency; HEIC is refused without it
    HEIF_SUPPORTED = False
else:
    register_heif_opener()
    HEIF_SUPPORTED = True

# The Pillow openers tried, and what an opened image's format is called in `source_format`.
# A JPEG holding several pictures (MPO: Samsung, iPhone depth or HDR data) opens as "MPO".
_OPENERS: Final[list[str]] = ["JPEG", "PNG", "WEBP", *(["HEIF"] if HEIF_SUPPORTED else [])]
_SOURCE_FORMATS: Final = {
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "PNG": "png",
    "WEBP": "webp",
    "HEIF": "heic",
}

# ISO-BMFF brands of HEIF/AVIF files: recognised as images even when no opener can read them,
# so a HEIC without pillow-heif is "unsupported", not "not an image".
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)

MIN_SIDE: Final = 200  # px; a front photo smaller than this shows nothing usable
DRAFT_MIN_FRACTION: Final = 0.95  # a reduced JPEG decode may fall this far below long_side
JPEG_QUALITY: Final = 85
THUMB_QUALITY: Final = 80
DEFAULT_CONCURRENCY: Final = 2
_SHANGHAI: Final = ZoneInfo(TIMEZONE)
_WHITE: Final = (255, 255, 255, 255)

_slots = threading.BoundedSemaphore(DEFAULT_CONCURRENCY)


@dataclass(frozen=True)
class ProcessedPhoto:
    """A verified photo ready to store: `key` is the sha256 hex of `jpeg`.

    `width` and `height` are those of `jpeg` (upright). `gps` is (lat, lng) in
    WGS-84 as the phone wrote it; `taken_at` is aware (a naive EXIF time is read
    as Asia/Shanghai).
    """

    key: str
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    source_format: str
    gps: tuple[float, float] | None
    taken_at: datetime | None


class PhotoRejected(ValueError):
    """An upload that is not a usable photo; `code` is stable, the messages are for people."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


def _rejected(code: str, **values: object) -> PhotoRejected:
    zh, en = _MESSAGES[code]
    return PhotoRejected(code, zh.format(**values), en.format(**values))


_MESSAGES: Final[Mapping[str, tuple[str, str]]] = {
    "empty": ("文件为空", "the file is empty"),
    "not_an_image": (
        "不是图片文件，请上传 JPEG、PNG、WebP 或 HEIC 照片",
        "not an image: upload a JPEG, PNG, WebP or HEIC photo",
    ),
    "unsupported_format": (
        "不支持该图片格式（{fmt}），请上传 JPEG、PNG、WebP 或 HEIC 照片",
        "unsupported image format ({fmt}): upload a JPEG, PNG, WebP or HEIC photo",
    ),
    "too_many_pixels": ("图片像素过多，最多 {limit:,} 像素", "too many pixels: at most {limit:,}"),
    "truncated": ("图片文件不完整或已损坏", "the image file is incomplete or damaged"),
    "too_small": (
        "图片太小（{width}×{height}），短边至少 {min_side} 像素",
        "image too small ({width}×{height}): the short side must be at least {min_side} px",
    ),
}


def configure_concurrency(n: int) -> None:
    """Allow at most `n` photos to be decoded at once in this process (default 2).

    Call it at start-up, before uploads arrive; photos already being processed
    keep the slot they took from the previous limit.
    """
    global _slots
    if n < 1:
        raise ValueError("photo concurrency must be at least 1")
    _slots = threading.BoundedSemaphore(n)


@contextmanager
def _processing_slot() -> Iterator[None]:
    """Hold one decoding slot; `process_photo` takes one itself, so never nest this around it."""
    slots = _slots  # the limit in force when we started, released to the same semaphore
    with slots:
        yield


def process_photo(
    data: bytes | IO[bytes],
    *,
    max_pixels: int = 40_000_000,
    long_side: int = 2048,
    thumb_side: int = 320,
    min_side: int = MIN_SIDE,
) -> ProcessedPhoto:
    """Verify an upload and re-encode it as an upright JPEG without metadata, plus a thumbnail.

    `data` is the whole file, as bytes or a readable stream (read from its
    start). Raises `PhotoRejected` for anything that is not a usable photo, and
    nothing else from Pillow; RuntimeError if Pillow was set to accept
    truncated images (`ImageFile.LOAD_TRUNCATED_IMAGES`), a process-wide switch
    that would let half files through.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on: photos cannot be verified")
    fp = io.BytesIO(data) if isinstance(data, bytes) else data
    if not fp.seekable():
        fp = io.BytesIO(fp.read())
    fp.seek(0)
    head = fp.read(16)
    if not head:
        raise _rejected("empty")
    with _processing_slot():
        return _process(fp, head, max_pixels, long_side, thumb_side, min_side)


def _process(
    fp: IO[bytes], head: bytes, max_pixels: int, long_side: int, thumb_side: int, min_side: int
) -> ProcessedPhoto:
    with _open(fp, head) as im:
        source_format = _SOURCE_FORMATS.get(str(im.format))
        if source_format is None:  # an opener answered with a format we do not know
            raise _rejected("unsupported_format", fmt=im.format)
        width, height = im.size
        limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
        if width * height > limit:
            raise _rejected("too_many_pixels", limit=limit)
        if min(width, height) < min_side:
            raise _rejected("too_small", width=width, height=height, min_side=min_side)
        if max(width, height) > long_side:
            scale = long_side * DRAFT_MIN_FRACTION / max(width, height)
            im.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        try:
            im.load()
        except MemoryError:
            raise
        except Exception as exc:
            raise _rejected("truncated") from exc
        exif = _exif(im)
        icc = im.info.get("icc_profile")
        with suppress(Exception):  # malformed EXIF: keep the picture as stored
            ImageOps.exif_transpose(im, in_place=True)
        try:
            picture = _fit(_flatten(im), long_side)
            picture = _to_srgb(picture, icc if isinstance(icc, bytes) else None)
            jpeg = _encode(picture, JPEG_QUALITY)
            thumbnail = _encode(_fit(picture, thumb_side), THUMB_QUALITY)
        except MemoryError:
            raise
        except Exception as exc:  # decoded, but in a mode we cannot turn into a JPEG
            raise _rejected("unsupported_format", fmt=f"{im.format} {im.mode}") from exc
        return ProcessedPhoto(
            key=hashlib.sha256(jpeg).hexdigest(),
            jpeg=jpeg,
            thumbnail=thumbnail,
            width=picture.width,
            height=picture.height,
            source_format=source_format,
            gps=_gps(exif),
            taken_at=_taken_at(exif),
        )


def _open(fp: IO[bytes], head: bytes) -> ImageFile.ImageFile:
    """Identify the file as one of the allowed formats, reading only its header."""
    try:
        return Image.open(fp, formats=_OPENERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (its warning counts when warnings are errors)
        raise _rejected("too_many_pixels", limit=Image.MAX_IMAGE_PIXELS) from exc
    except UnidentifiedImageError as exc:
        other = _other_format(fp, head)
        if other is None:
            raise _rejected("not_an_image") from exc
        raise _rejected("unsupported_format", fmt=other) from exc
    except MemoryError:
        raise
    except Exception as exc:  # an allowed format's header, then nonsense
        raise _rejected("truncated") from exc


def _other_format(fp: IO[bytes], head: bytes) -> str | None:
    """The name of the image format `fp` is in when it is not an allowed one, else None."""
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return head[8:12].decode("ascii")
    try:
        fp.seek(0)
        with Image.open(fp) as other:
            return str(other.format)
    except Exception:
        return None


def _exif(im: Image.Image) -> Image.Exif | None:
    """The picture's EXIF, or None when it has none or it cannot be parsed (not a refusal)."""
    try:
        exif = im.getexif()
    except Exception:
        return None
    return exif if len(exif) else None


def _gps(exif: Image.Exif | None) -> tuple[float, float] | None:
    """(lat, lng) from the GPS IFD, or None when absent, partial or out of range.

    (0, 0) is also None: phones without a fix write it, and it is in the Gulf of Guinea.
    """
    if exif is None:
        return None
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat = _degrees(
            gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "NS"
        )
        lng = _degrees(
            gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "EW"
        )
    except Exception:
        return None
    if lat is None or lng is None or abs(lat) > 90 or abs(lng) > 180 or (lat == 0 and lng == 0):
        return None
    return lat, lng


def _degrees(value: object, ref: object, refs: str) -> float | None:
    """Degrees, minutes, seconds (1 to 3 rationals) and a hemisphere letter -> signed degrees."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3 or not isinstance(ref, str):
        return None
    ref = ref.strip("\x00 ").upper()
    parts = [float(v) for v in value]
    if ref not in (refs[0], refs[1]) or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    if any(p >= 60 for p in parts[1:]):  # minutes and seconds
        return None
    degrees = sum(p / 60.0**i for i, p in enumerate(parts))
    return -degrees if ref == refs[1] else degrees


def _taken_at(exif: Image.Exif | None) -> datetime | None:
    """DateTimeOriginal with OffsetTimeOriginal when present, else read as Asia/Shanghai time."""
    if exif is None:
        return None
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        text = str(ifd.get(ExifTags.Base.DateTimeOriginal, "")).strip("\x00 ")
        taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
        offset = str(ifd.get(ExifTags.Base.OffsetTimeOriginal, "")).strip("\x00 ")
        if len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
            minutes = int(offset[1:3]) * 60 + int(offset[4:6])
            zone = timezone(timedelta(minutes=-minutes if offset[0] == "-" else minutes))
            return taken.replace(tzinfo=zone)
        return taken.replace(tzinfo=_SHANGHAI)
    except Exception:
        return None


def _flatten(im: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (a JPEG has none; black would hide dark logos)."""
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", im.size, _WHITE), rgba).convert("RGB")
    if im.mode == "I" or im.mode.startswith("I;16"):  # 16-bit grey: RGB would clip it to white
        return im.convert("I").point(lambda v: v / 257).convert("L").convert("RGB")
    return im.convert("RGB")


def _fit(im: Image.Image, side: int) -> Image.Image:
    """Scaled down (never up) so the long side is at most `side`, aspect ratio kept."""
    if max(im.size) <= side:
        return im
    scale = side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert from the embedded RGB profile to sRGB, which is what a JPEG without one means."""
    if not icc:
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return im
        srgb = ImageCms.createProfile("sRGB")  # per call: LittleCMS profiles are not shared safely
        converted = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
    except Exception:  # a broken profile: the pixels as they are
        return im
    return converted if converted is not None else im


def _encode(im: Image.Image, quality: int) -> bytes:
    """A progressive JPEG with no metadata: `info` is cleared because Pillow carries some of it
    (the comment) over from the image when saving."""
    im.info = {}
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
