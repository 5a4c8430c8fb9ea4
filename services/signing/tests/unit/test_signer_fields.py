"""How the signing page names, numbers and places a signer's fields (no database)."""

from types import SimpleNamespace

from pactra_signing.entrypoints import signer_fields

A4 = [595.28, 841.89]


def _field(fid, kind, page, x, y, *, signer="sgr_a", width=100.0, height=20.0, position=0):
    return SimpleNamespace(id=fid, signer_id=signer, type=kind, page=page, x=x, y=y, width=width,
                           height=height, required=True, value=None, position=position)


def _agreement(fields, sizes=(A4, A4[::-1])):
    return SimpleNamespace(fields=fields, document_pages=2,
                           document_page_sizes=[list(s) for s in sizes] if sizes else None)


def test_fields_are_numbered_in_reading_order_and_named_as_the_signer_sees_them():
    agreement = _agreement([
        _field("fld_c", "text", 2, 10, 10, position=0),
        _field("fld_b", "date", 1, 300, 600, position=1),
        _field("fld_a", "signature", 1, 72, 600, position=2),
        _field("fld_x", "date", 1, 72, 700, position=3),
        _field("fld_other", "text", 1, 0, 0, signer="sgr_b", position=4),
    ])
    shown = signer_fields.shown_fields(agreement, SimpleNamespace(id="sgr_a"))
    assert [(f["number"], f["id"], f["name"]) for f in shown] == [
        (1, "fld_a", "Signature on page 1"),
        (2, "fld_b", "Date on page 1, field 2"),  # two dates on page 1: the number tells them apart
        (3, "fld_x", "Date on page 1, field 3"),
        (4, "fld_c", "Text on page 2"),
    ]
    assert all("fld_" not in f["name"] for f in shown)


def test_boxes_are_fractions_of_their_page_as_displayed():
    agreement = _agreement([_field("fld_a", "date", 1, 297.64, 0, width=59.528, height=84.189),
                            _field("fld_b", "text", 2, 10, 500, width=100, height=20)])
    first, second = signer_fields.shown_fields(agreement, SimpleNamespace(id="sgr_a"))
    assert first["box"] == {"left": 50.0, "top": 0.0, "width": 10.0, "height": 10.0,
                            "below": True, "end": False}
    assert second["box"]["top"] == round(100 * 500 / 595.28, 3)  # page 2 is landscape
    images = signer_fields.page_images(agreement)
    assert [(i["width"], i["height"]) for i in images] == [(1200, 1697), (1200, 848)]


def test_without_page_sizes_fields_are_listed_but_not_placed():
    agreement = _agreement([_field("fld_a", "date", 1, 72, 600)], sizes=None)
    (shown,) = signer_fields.shown_fields(agreement, SimpleNamespace(id="sgr_a"))
    assert shown["box"] is None and shown["name"] == "Date on page 1"
    assert signer_fields.page_images(agreement)[0] == {"number": 1, "width": 1200, "height": 1553}
