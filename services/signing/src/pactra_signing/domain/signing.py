"""What a signer hands in when they sign, checked: their field values and their signature
(a drawn one is a PNG whose header must be sane before anything decodes it)."""

import base64
import binascii
import struct
import zlib
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from pactra_contracts.api import DrawnSignature, SignRequest
from pactra_contracts.events import Signature

from .errors import Invalid

if TYPE_CHECKING:
    from .agreement import Field

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_PNG = 1024 * 1024
# A PNG compresses very well: 1 MiB can declare a 30,000 x 30,000 image that inflates to
# gigabytes where the receipts issuer decodes it. Its header says the size before anything
# is inflated, so the bounds are checked here, at sign time.
MAX_SIGNATURE_PIXELS = 4_000_000
MAX_SIGNATURE_BIT_DEPTH = 8
# Colour type -> the bit depths the PNG specification allows for it.
PNG_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
SIGNATURE_FIELDS = ("signature", "initials")

FieldValues = dict[str, str | bool]


def field_values(fields: Iterable["Field"], signer_id: str, given: FieldValues) -> FieldValues:
    """The values of the signer's fields from what they gave: every field they fill known,
    required ones present, each of its type; signature boxes are True."""
    mine = {f.id: f for f in fields if f.signer_id == signer_id}
    unknown = set(given) - {fid for fid, f in mine.items() if f.type not in SIGNATURE_FIELDS}
    if unknown:
        raise Invalid("fields", f"Not fields this signer fills: {', '.join(sorted(unknown))}.")
    values: FieldValues = {}
    for field_id, field in mine.items():
        if field.type in SIGNATURE_FIELDS:
            values[field_id] = True
            continue
        value = given.get(field_id)
        if value is None or value == "":
            if field.required and field.type != "checkbox":
                raise Invalid(f"fields.{field_id}", f"This {field.type} field is required.")
            if field.type == "checkbox":
                values[field_id] = False
            continue
        if field.type == "checkbox":
            if not isinstance(value, bool):
                raise Invalid(f"fields.{field_id}", "A checkbox takes true or false.")
            if field.required and value is not True:
                raise Invalid(f"fields.{field_id}", "This checkbox must be ticked.")
        elif field.type == "date":
            if not isinstance(value, str):
                raise Invalid(f"fields.{field_id}", "A date is a YYYY-MM-DD string.")
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise Invalid(f"fields.{field_id}", "A date is a YYYY-MM-DD string.") from exc
            if len(value) != 10:
                raise Invalid(f"fields.{field_id}", "A date is a YYYY-MM-DD string.")
        elif not isinstance(value, str) or len(value) > 1000:
            raise Invalid(f"fields.{field_id}", "Text is a string of up to 1,000 characters.")
        values[field_id] = value
    return values


def signature_of(cmd: SignRequest) -> Signature:
    if isinstance(cmd.signature, DrawnSignature):
        try:
            png = base64.b64decode(cmd.signature.png_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("signature.png_base64", "The drawn signature is not base64.") from exc
        if not png.startswith(PNG_MAGIC) or len(png) > MAX_SIGNATURE_PNG:
            raise Invalid("signature.png_base64", "The drawn signature must be a PNG of at most 1 MiB.")
        check_png_header(png)
        return Signature(type="drawn", png_base64=cmd.signature.png_base64)
    return Signature(type="typed", text=cmd.signature.text)


def check_png_header(png: bytes) -> None:
    """The PNG's IHDR (the chunk right after the signature): well formed, at most
    MAX_SIGNATURE_PIXELS and MAX_SIGNATURE_BIT_DEPTH bits per channel. Reads 33 bytes and
    inflates nothing."""
    field = "signature.png_base64"
    header = png[len(PNG_MAGIC):len(PNG_MAGIC) + 25]
    if len(header) < 25:
        raise Invalid(field, "The drawn signature is not a complete PNG.")
    length, kind = struct.unpack(">I4s", header[:8])
    body, crc = header[8:21], struct.unpack(">I", header[21:25])[0]
    if length != 13 or kind != b"IHDR" or zlib.crc32(kind + body) != crc:
        raise Invalid(field, "The drawn signature's PNG header is malformed.")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if (not 0 < width < 2**31 or not 0 < height < 2**31 or depth not in PNG_BIT_DEPTHS.get(colour, ())
            or compression != 0 or filtering != 0 or interlace not in (0, 1)):
        raise Invalid(field, "The drawn signature's PNG header is malformed.")
    if width * height > MAX_SIGNATURE_PIXELS:
        raise Invalid(field, f"The drawn signature is {width} x {height} pixels; at most "
                             f"{MAX_SIGNATURE_PIXELS:,} pixels are allowed.")
    if depth > MAX_SIGNATURE_BIT_DEPTH:
        raise Invalid(field, f"The drawn signature has {depth} bits per channel; "
                             f"at most {MAX_SIGNATURE_BIT_DEPTH} are allowed.")
