"""A signer's fields as the signing page shows them: numbered in reading order, named as the
signer sees them ("Date on page 1"), and placed on the page images.

Field geometry is in PDF points from the page's top-left; the page images are renders of the
whole page at one scale, so a field's box is the same fraction of its image as of its page.
The page shows boxes as percentages of the image and so fits any screen width.
"""

from ..domain.agreement import Agreement, Field, Signer

KINDS = {"signature": "Signature", "initials": "Initials", "date": "Date", "text": "Text",
         "checkbox": "Checkbox"}
RENDER_WIDTH = 1200  # the documents service's page images are this wide (pdf_probe)
# US Letter, for the images' aspect ratio of an agreement made before page sizes were known.
DEFAULT_SIZE = (612.0, 792.0)


def _box(field: Field, size: tuple[float, float] | None) -> dict | None:
    if size is None:
        return None
    width, height = size
    left, top = 100 * field.x / width, 100 * field.y / height
    return {
        "left": round(left, 3), "top": round(top, 3),
        "width": round(100 * field.width / width, 3), "height": round(100 * field.height / height, 3),
        # Where the number tag goes: above the box, unless the box touches the page's top; from
        # its left edge, unless the box is far right (the tag must not leave the page).
        "below": top < 4, "end": left > 60,
    }


def page_sizes(agreement: Agreement) -> list[tuple[float, float] | None]:
    known = agreement.document_page_sizes or []
    return [tuple(known[i]) if i < len(known) else None for i in range(agreement.document_pages)]


def page_images(agreement: Agreement) -> list[dict]:
    """Each page's number and its image's size (for the browser to reserve the space)."""
    images = []
    for number, size in enumerate(page_sizes(agreement), start=1):
        width, height = size or DEFAULT_SIZE
        images.append({"number": number, "width": RENDER_WIDTH,
                       "height": max(1, round(RENDER_WIDTH * height / width))})
    return images


def shown_fields(agreement: Agreement, signer: Signer) -> list[dict]:
    sizes = page_sizes(agreement)
    mine = sorted((f for f in agreement.fields if f.signer_id == signer.id),
                  key=lambda f: (f.page, f.y, f.x, f.position))
    names = [f"{KINDS[f.type]} on page {f.page}" for f in mine]
    shown = []
    for number, (field, name) in enumerate(zip(mine, names, strict=True), start=1):
        if names.count(name) > 1:  # two dates on page 1: the number tells them apart
            name = f"{name}, field {number}"
        shown.append({
            "id": field.id, "type": field.type, "page": field.page, "required": field.required,
            "value": field.value, "number": number, "name": name, "kind": KINDS[field.type],
            "box": _box(field, sizes[field.page - 1] if field.page <= len(sizes) else None),
        })
    return shown
