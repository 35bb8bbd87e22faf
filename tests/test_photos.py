"""Photo verification, normalisation and storage (`uploads.photos`, `uploads.photo_store`).

Every test image is made here with Pillow (and pillow-heif for HEIC), with the
EXIF a phone would write, so each expected value is the one written.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile
from PIL.TiffImagePlugin import IFDRational

from uploads import photos
from uploads.photo_store import DirectoryPhotoStore, PhotoStore
from uploads.photos import PhotoRejected, ProcessedPhoto, process_photo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAKE = "AcmeTestPhoneMaker"
MODEL = "Z9-SecretModel"
# 32°3'30.51"N 118°47'12.25"E, Xinjiekou, Nanjing
LAT_DMS = (32, 3, 30.51)
LNG_DMS = (118, 47, 12.25)


def dms(value: tuple[float, float, float]) -> tuple[IFDRational, ...]:
    return tuple(IFDRational(round(v * 100), 100) for v in value)


def decimal(value: tuple[float, float, float]) -> float:
    return value[0] + value[1] / 60 + value[2] / 3600


def scene(width: int, height: int, *, noise: bool = False) -> Image.Image:
    """An RGB picture with structure (gradients, optionally noise like a photo's grain)."""
    bands = []
    for angle in (0, 90, 45):
        band = Image.linear_gradient("L").rotate(angle).resize((width, height))
        if noise:
            band = Image.blend(band, Image.effect_noise((width, height), 40), 0.5)
        bands.append(band)
    return Image.merge("RGB", bands)


def phone_exif(
    *,
    lat: tuple[float, float, float] | None = LAT_DMS,
    lat_ref: str | None = "N",
    lng: tuple[float, float, float] | None = LNG_DMS,
    lng_ref: str | None = "E",
    orientation: int | None = None,
    taken: str | None = "2024:05:01 10:20:30",
    offset: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if lat is not None:
        gps[ExifTags.GPS.GPSLatitude] = dms(lat)
    if lat_ref is not None:
        gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
    if lng is not None:
        gps[ExifTags.GPS.GPSLongitude] = dms(lng)
    if lng_ref is not None:
        gps[ExifTags.GPS.GPSLongitudeRef] = lng_ref
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        ifd[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        ifd[ExifTags.Base.OffsetTimeOriginal] = offset
    return exif


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and a valid IHDR declaring any size, then one tiny IDAT and IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def heic_bytes(im: Image.Image, exif: Image.Exif | None = None) -> bytes:
    assert photos.HEIF_SUPPORTED and "HEIF" in Image.SAVE  # pillow-heif is a dependency
    return encode(im, "HEIF", quality=80, **({"exif": exif.tobytes()} if exif else {}))


def reopen(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def assert_no_metadata(data: bytes) -> None:
    """No EXIF (APP1), no ICC, XMP or comment, and none of the device strings written."""
    im = reopen(data)
    assert im.format == "JPEG"
    assert len(im.getexif()) == 0
    assert not im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(im.info)
    assert b"\xff\xe1" not in data  # no APP1 segment: where EXIF and XMP live
    assert b"Exif\x00\x00" not in data
    assert MAKE.encode() not in data and MODEL.encode() not in data
    assert b"ICC_PROFILE" not in data


@pytest.fixture(autouse=True)
def default_concurrency() -> Iterator[None]:
    yield
    photos.configure_concurrency(photos.DEFAULT_CONCURRENCY)


# --- reading the phone's EXIF --------------------------------------------------------------------


def test_jpeg_gps_time_and_device_data_read_then_stripped() -> None:
    data = encode(scene(800, 600), "JPEG", exif=phone_exif())
    assert MAKE.encode() in data  # the fixture really carries what must be removed

    photo = process_photo(data)

    assert photo.source_format == "jpeg"
    assert photo.gps == pytest.approx((decimal(LAT_DMS), decimal(LNG_DMS)), abs=1e-9)
    assert photo.taken_at == datetime(2024, 5, 1, 10, 20, 30, tzinfo=SHANGHAI)
    assert photo.taken_at is not None and photo.taken_at.utcoffset() == timedelta(hours=8)
    assert (photo.width, photo.height) == (800, 600)
    assert_no_metadata(photo.jpeg)
    assert_no_metadata(photo.thumbnail)


def test_southern_and_western_hemispheres_are_negative() -> None:
    exif = phone_exif(lat=(33, 52, 4.0), lat_ref="S", lng=(151, 12, 36.0), lng_ref="W")
    photo = process_photo(encode(scene(400, 300), "JPEG", exif=exif))
    assert photo.gps == pytest.approx((-decimal((33, 52, 4.0)), -decimal((151, 12, 36.0))))


@pytest.mark.parametrize(
    "exif",
    [
        phone_exif(lat_ref=None),  # no hemisphere: ambiguous
        phone_exif(lng=None),  # half a position
        phone_exif(lat=(0, 0, 0), lng=(0, 0, 0)),  # what phones write without a fix
        phone_exif(lat=(95, 0, 0)),  # out of range
        phone_exif(lng=(118, 75, 0)),  # 75 minutes
        phone_exif(lat_ref="X"),
    ],
    ids=["no-ref", "no-longitude", "zero", "lat-95", "minutes-75", "ref-x"],
)
def test_unusable_gps_gives_no_position_but_the_photo_is_kept(exif: Image.Exif) -> None:
    photo = process_photo(encode(scene(400, 300), "JPEG", exif=exif))
    assert photo.gps is None
    assert_no_metadata(photo.jpeg)


def test_time_offset_written_by_the_phone_is_used() -> None:
    exif = phone_exif(taken="2024:12:31 23:59:58", offset="-05:30")
    photo = process_photo(encode(scene(400, 300), "JPEG", exif=exif))
    zone = timezone(-timedelta(hours=5, minutes=30))
    assert photo.taken_at == datetime(2024, 12, 31, 23, 59, 58, tzinfo=zone)


@pytest.mark.parametrize("taken", [None, "0000:00:00 00:00:00", "yesterday"])
def test_missing_or_invalid_capture_time_is_none(taken: str | None) -> None:
    photo = process_photo(encode(scene(400, 300), "JPEG", exif=phone_exif(taken=taken)))
    assert photo.taken_at is None


def test_photo_without_exif() -> None:
    photo = process_photo(encode(scene(400, 300), "JPEG"))
    assert photo.gps is None and photo.taken_at is None


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "HEIF"])
def test_orientation_is_applied(fmt: str) -> None:
    # Stored landscape, top half red, bottom half blue; orientation 6 means "rotate 90° clockwise
    # to display", so the stored top row becomes the right-hand side of an upright portrait.
    # (pillow-heif turns the EXIF orientation into the HEIF's own rotation: same result.)
    stored = Image.new("RGB", (400, 300), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 400, 150))
    exif = phone_exif(orientation=6)
    data = heic_bytes(stored, exif) if fmt == "HEIF" else encode(stored, fmt, exif=exif)
    photo = process_photo(data)

    assert (photo.width, photo.height) == (300, 400)
    upright = reopen(photo.jpeg).convert("RGB")
    assert upright.size == (300, 400)
    right, left = upright.getpixel((280, 200)), upright.getpixel((20, 200))
    assert isinstance(right, tuple) and isinstance(left, tuple)
    assert right[0] > 200 and right[2] < 60  # red
    assert left[2] > 200 and left[0] < 60  # blue
    assert_no_metadata(photo.jpeg)


# --- formats --------------------------------------------------------------------------------------


def test_png_transparency_is_flattened_on_white() -> None:
    im = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    im.paste((200, 0, 0, 255), (200, 0, 400, 300))
    photo = process_photo(encode(im, "PNG"))

    assert photo.source_format == "png"
    out = reopen(photo.jpeg)
    assert out.mode == "RGB"
    left, right = out.getpixel((50, 150)), out.getpixel((350, 150))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert min(left) > 245  # white, not black
    assert right[0] > 180 and right[1] < 40 and right[2] < 40


def test_palette_and_grey_pngs() -> None:
    grey16 = Image.new("I;16", (300, 300), 40000)
    photo = process_photo(encode(grey16, "PNG"))
    value = reopen(photo.jpeg).convert("L").getpixel((150, 150))
    assert isinstance(value, int) and abs(value - 40000 / 257) < 3  # scaled, not clipped to white

    palette = scene(300, 300).convert("P", palette=Image.Palette.ADAPTIVE)
    assert process_photo(encode(palette, "PNG")).source_format == "png"


def test_png_exif_is_read_and_removed() -> None:
    photo = process_photo(encode(scene(400, 300), "PNG", exif=phone_exif()))
    assert photo.gps == pytest.approx((decimal(LAT_DMS), decimal(LNG_DMS)))
    assert_no_metadata(photo.jpeg)


def test_multi_picture_jpeg_is_a_jpeg() -> None:
    # Samsung phones and iPhones (depth, HDR gain map) write JPEGs with several pictures (MPO).
    main, extra = scene(400, 300), Image.new("RGB", (200, 150), "blue")
    data = encode(main, "MPO", save_all=True, append_images=[extra], exif=phone_exif())
    assert reopen(data).format == "MPO"
    photo = process_photo(data)
    assert photo.source_format == "jpeg"
    assert (photo.width, photo.height) == (400, 300)
    assert photo.gps == pytest.approx((decimal(LAT_DMS), decimal(LNG_DMS)))
    assert_no_metadata(photo.jpeg)


def test_webp() -> None:
    photo = process_photo(encode(scene(400, 300), "WEBP", quality=90, exif=phone_exif()))
    assert photo.source_format == "webp"
    assert (photo.width, photo.height) == (400, 300)
    assert photo.gps == pytest.approx((decimal(LAT_DMS), decimal(LNG_DMS)))
    assert_no_metadata(photo.jpeg)


def test_heic() -> None:
    data = heic_bytes(scene(640, 480), phone_exif())
    photo = process_photo(data)
    assert photo.source_format == "heic"
    assert (photo.width, photo.height) == (640, 480)
    assert photo.gps == pytest.approx((decimal(LAT_DMS), decimal(LNG_DMS)))
    assert photo.taken_at == datetime(2024, 5, 1, 10, 20, 30, tzinfo=SHANGHAI)
    assert_no_metadata(photo.jpeg)


def test_heic_without_pillow_heif_is_an_unsupported_format(monkeypatch: pytest.MonkeyPatch) -> None:
    data = heic_bytes(scene(400, 300))
    # What the module sees when pillow-heif is not installed: no HEIF opener in Pillow at all.
    monkeypatch.setattr(photos, "_OPENERS", [name for name in photos._OPENERS if name != "HEIF"])
    monkeypatch.delitem(Image.OPEN, "HEIF")
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "HEIF"])
    with pytest.raises(PhotoRejected) as refused:
        process_photo(data)
    assert refused.value.code == "unsupported_format"
    assert "heic" in refused.value.message_en


# --- sizes ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    """A 4000 × 3000 JPEG with grain, a few MB like a phone's."""
    return encode(scene(4000, 3000, noise=True), "JPEG", quality=85, exif=phone_exif())


def test_big_jpeg_is_scaled_down(big_jpeg: bytes) -> None:
    assert len(big_jpeg) > 2_000_000
    photo = process_photo(big_jpeg)

    assert max(photo.width, photo.height) <= 2048
    assert max(photo.width, photo.height) >= 2048 * photos.DRAFT_MIN_FRACTION
    assert abs(photo.width / photo.height - 4 / 3) < 0.01
    assert reopen(photo.jpeg).size == (photo.width, photo.height)
    thumb = reopen(photo.thumbnail)
    assert max(thumb.size) == 320
    assert abs(thumb.width / thumb.height - 4 / 3) < 0.02
    assert photo.gps == pytest.approx((decimal(LAT_DMS), decimal(LNG_DMS)))
    assert_no_metadata(photo.jpeg)


def test_big_png_is_scaled_to_the_long_side_exactly() -> None:
    photo = process_photo(encode(scene(3000, 1000), "PNG"))
    assert (photo.width, photo.height) == (2048, 683)
    assert reopen(photo.thumbnail).size == (320, 107)


def test_custom_sides_and_portrait() -> None:
    photo = process_photo(encode(scene(900, 1200), "PNG"), long_side=600, thumb_side=100)
    assert (photo.width, photo.height) == (450, 600)
    assert reopen(photo.thumbnail).size == (75, 100)


def test_small_photo_is_not_enlarged() -> None:
    photo = process_photo(encode(scene(300, 250), "PNG"))
    assert (photo.width, photo.height) == (300, 250)
    assert reopen(photo.thumbnail).size == (300, 250)


# --- content addressing --------------------------------------------------------------------------


def test_key_is_the_sha256_of_the_stored_bytes_and_is_deterministic(big_jpeg: bytes) -> None:
    for data in (encode(scene(800, 600), "JPEG", exif=phone_exif()), big_jpeg):
        first = process_photo(data)
        again = process_photo(io.BytesIO(data))
        assert first.key == hashlib.sha256(first.jpeg).hexdigest()
        assert again == first


def test_different_photos_have_different_keys() -> None:
    one = process_photo(encode(scene(400, 300), "PNG"))
    other = process_photo(encode(scene(400, 300).rotate(180), "PNG"))
    assert one.key != other.key


def test_icc_profile_is_applied_not_kept() -> None:
    im = scene(400, 300)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_srgb = process_photo(encode(im, "PNG", icc_profile=srgb))
    plain = process_photo(encode(im, "PNG"))
    assert_no_metadata(with_srgb.jpeg)
    a, b = reopen(with_srgb.jpeg).getpixel((200, 150)), reopen(plain.jpeg).getpixel((200, 150))
    assert isinstance(a, tuple) and isinstance(b, tuple)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 3  # sRGB to sRGB: unchanged

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    for profile in (lab, b"not a profile at all"):  # wrong colour space, garbage: pixels as is
        assert process_photo(encode(im, "PNG", icc_profile=profile)).key == plain.key


# --- refusals ------------------------------------------------------------------------------------


def refusal(data: bytes, **options: int) -> str:
    with pytest.raises(PhotoRejected) as refused:
        process_photo(data, **options)
    assert refused.value.message_zh and refused.value.message_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message_zh)
    return refused.value.code


def test_empty() -> None:
    assert refusal(b"") == "empty"
    with pytest.raises(PhotoRejected) as refused:
        process_photo(io.BytesIO(b""))
    assert refused.value.code == "empty"


def test_random_bytes_and_text_are_not_images() -> None:
    rng = random.Random(6)
    assert refusal(rng.randbytes(5000)) == "not_an_image"
    assert refusal("这是一张网点照片".encode()) == "not_an_image"
    assert refusal(b"%PDF-1.7\n" + rng.randbytes(2000)) == "not_an_image"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    assert refusal(encode(scene(400, 300), fmt)) == "unsupported_format"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_a_photo_cut_in_half_is_truncated(fmt: str) -> None:
    im = scene(400, 300, noise=True)
    data = heic_bytes(im) if fmt == "HEIF" else encode(im, fmt)
    assert process_photo(data)  # whole, it is fine
    assert refusal(data[: len(data) // 2]) == "truncated"


def test_valid_header_then_garbage() -> None:
    rng = random.Random(0)
    jpeg = encode(scene(400, 300), "JPEG")
    # Garbage inside the header: Pillow cannot even tell the size, so it is no image at all.
    assert refusal(jpeg[:2] + rng.randbytes(3000)) == "not_an_image"
    # A whole header (up to the start of scan), then garbage instead of the picture.
    start_of_scan = jpeg.index(b"\xff\xda")
    assert refusal(jpeg[: start_of_scan + 14] + rng.randbytes(3000)) == "truncated"
    assert refusal(png_header(400, 300)) == "truncated"  # its one IDAT holds 64 bytes


def test_decompression_bombs() -> None:
    # 10^10 pixels declared in ~70 bytes: refused by Pillow's own check, before any decoding.
    assert refusal(png_header(100_000, 100_000)) == "too_many_pixels"
    # 48 megapixels: below Pillow's limit, above ours.
    assert refusal(png_header(8000, 6000)) == "too_many_pixels"
    assert refusal(encode(scene(1000, 1000), "PNG"), max_pixels=500_000) == "too_many_pixels"


def test_pillow_bomb_warning_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200_000)  # warns above, errors above 400,000
    data = encode(scene(500, 500), "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert refusal(data) == "too_many_pixels"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert refusal(data) == "too_many_pixels"


@pytest.mark.parametrize("size", [(150, 150), (1000, 150), (199, 4000)])
def test_too_small(size: tuple[int, int]) -> None:
    assert refusal(encode(scene(*size), "PNG")) == "too_small"


def test_fuzzed_files_are_refused_or_accepted_never_crash() -> None:
    rng = random.Random(2024)
    im = scene(320, 240, noise=True)
    seeds = [encode(im, "JPEG"), encode(im, "PNG"), encode(im, "WEBP"), heic_bytes(im)]
    outcomes: dict[str, int] = {}
    for seed in seeds:
        for _ in range(40):
            data = bytearray(seed)
            kind = rng.randrange(3)
            if kind == 0:  # flip bytes
                for _ in range(rng.randint(1, 20)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif kind == 1:  # cut anywhere
                data = data[: rng.randrange(1, len(data))]
            else:  # splice garbage in
                at = rng.randrange(len(data))
                data[at:at] = rng.randbytes(rng.randint(1, 500))
            try:
                photo = process_photo(bytes(data))
            except PhotoRejected as exc:
                outcomes[exc.code] = outcomes.get(exc.code, 0) + 1
            else:
                assert isinstance(photo, ProcessedPhoto)
                assert_no_metadata(photo.jpeg)
                outcomes["accepted"] = outcomes.get("accepted", 0) + 1
    assert sum(outcomes.values()) == 160
    assert outcomes.get("truncated", 0) > 0


def test_load_truncated_images_switch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(scene(400, 300), "JPEG")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        process_photo(data[: len(data) // 2])


# --- concurrency ---------------------------------------------------------------------------------


def test_at_most_the_configured_number_decode_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    photos.configure_concurrency(2)
    inside = peak = 0
    changed = threading.Condition()
    release = threading.Event()
    done: list[object] = []

    def slow_process(*args: object) -> object:
        nonlocal inside, peak
        with changed:
            inside += 1
            peak = max(peak, inside)
            changed.notify_all()
        release.wait()
        with changed:
            inside -= 1
        return args[0]

    monkeypatch.setattr(photos, "_process", slow_process)
    threads = [
        threading.Thread(target=lambda: done.append(process_photo(b"any bytes"))) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    with changed:
        assert changed.wait_for(lambda: inside == 2, timeout=60)  # a guard against hanging
    assert not photos._slots.acquire(blocking=False)  # both slots held: the others wait
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(done) == 5 and peak == 2


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError):
        photos.configure_concurrency(0)


# --- the directory store -------------------------------------------------------------------------


@pytest.fixture
def stored() -> ProcessedPhoto:
    return process_photo(encode(scene(400, 300), "JPEG"))


def test_store_round_trip_and_layout(tmp_path: Path, stored: ProcessedPhoto) -> None:
    root = tmp_path / "photos" / "not-yet"
    store: PhotoStore = DirectoryPhotoStore(root)
    assert not store.exists(stored.key, "original")
    assert store.get(stored.key, "original") is None

    store.put(stored.key, "original", stored.jpeg)
    store.put(stored.key, "thumb", stored.thumbnail)

    key = stored.key
    assert (root / key[:2] / key[2:4] / f"{key}.jpg").read_bytes() == stored.jpeg
    assert (root / key[:2] / key[2:4] / f"{key}.thumb.jpg").read_bytes() == stored.thumbnail
    assert store.get(key, "original") == stored.jpeg
    assert store.get(key, "thumb") == stored.thumbnail
    assert store.exists(key, "original") and store.exists(key, "thumb")
    leftovers = [p.name for p in (root / key[:2] / key[2:4]).iterdir()]
    assert sorted(leftovers) == sorted([f"{key}.jpg", f"{key}.thumb.jpg"])  # no temp files

    store.delete(key, "thumb")
    store.delete(key, "thumb")  # already gone: fine
    assert not store.exists(key, "thumb") and store.exists(key, "original")


def test_store_put_is_idempotent(tmp_path: Path, stored: ProcessedPhoto) -> None:
    store = DirectoryPhotoStore(tmp_path)
    store.put(stored.key, "original", stored.jpeg)
    path = store.path(stored.key, "original")
    inode = path.stat().st_ino
    store.put(stored.key, "original", stored.jpeg)
    assert path.stat().st_ino == inode  # not rewritten
    assert path.read_bytes() == stored.jpeg


def test_store_original_must_hash_to_its_key(tmp_path: Path, stored: ProcessedPhoto) -> None:
    store = DirectoryPhotoStore(tmp_path)
    with pytest.raises(ValueError, match="sha256"):
        store.put(stored.key, "original", stored.thumbnail)
    assert not store.exists(stored.key, "original")


def test_store_failed_write_leaves_nothing(
    tmp_path: Path, stored: ProcessedPhoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryPhotoStore(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(stored.key, "original", stored.jpeg)
    monkeypatch.undo()
    assert not store.exists(stored.key, "original")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("key", "variant"),
    [
        ("../" + "a" * 61, "original"),
        ("a" * 62 + "/x", "original"),
        ("/" + "a" * 63, "original"),
        ("A" * 64, "original"),  # upper case
        ("a" * 63, "original"),
        ("a" * 65, "original"),
        ("a" * 64 + "\n", "original"),
        ("a" * 63 + "\x00", "original"),
        ("g" * 64, "original"),
        ("a" * 64, "../../etc/passwd"),
        ("a" * 64, "exif"),
        ("a" * 64, ""),
    ],
)
def test_store_refuses_bad_keys_and_variants(tmp_path: Path, key: str, variant: str) -> None:
    store = DirectoryPhotoStore(tmp_path / "root")
    for call in (
        lambda: store.put(key, variant, b"x"),
        lambda: store.get(key, variant),
        lambda: store.exists(key, variant),
        lambda: store.delete(key, variant),
    ):
        with pytest.raises(ValueError):
            call()
    assert list(tmp_path.rglob("*")) == []  # nothing created anywhere, not even the root
