"""The signer's fields on the signing page, in Chromium on a phone (390 px) and a desktop
(1200 px): each field marked where it sits on its page image, numbered and named; "Next field"
walks through the required ones; errors name a field as the signer sees it; dates start as
today in the signer's time zone. No sideways scrolling, no serious accessibility violation."""

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from pactra_devtools.testing import auth, signup

from . import flows

# Far from UTC, so "today" there is often not today in UTC: the page must use the signer's day.
TIME_ZONE = "Pacific/Kiritimati"
# (type, page, x, y, width, height, required) in PDF points on the A4 test document, in the
# order the page numbers them (reading order): page 1 top to bottom, left to right, then page 2...
FIELDS = [("signature", 1, 72, 600, 180, 40, True), ("date", 1, 300, 600, 100, 20, True),
          ("text", 2, 420, 4, 170, 20, True),  # top right: its tag goes below, leftwards
          ("checkbox", 2, 72, 100, 12, 12, False), ("initials", 4, 520, 800, 60, 20, True)]
NAMES = ["Signature on page 1", "Date on page 1", "Text on page 2", "Checkbox on page 2",
         "Initials on page 4"]


def _sent(stack, gateway) -> tuple[dict, dict, str]:
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signer = flows.people(1)
    body = {"title": "Master services agreement", "document_id": document["id"], "signers": signer,
            # Given out of order: the page numbers them by where they sit.
            "fields": [{"signer_email": signer[0]["email"], "type": t, "page": p, "x": x, "y": y,
                        "width": w, "height": h, "required": r}
                       for t, p, x, y, w, h, r in reversed(FIELDS)]}
    created = requests.post(gateway + "/v1/agreements", json=body, headers=auth(account), timeout=30)
    assert created.status_code == 201, created.text
    flows.act(gateway, account, created.json()["id"], "send")
    return account, document, flows.invitation_link(stack, signer[0]["email"])


def _serious(page) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


@pytest.mark.parametrize("width", [390, 1200])
def test_fields_are_shown_walked_and_named_on_the_signing_page(stack, gateway, browser, width):
    account, document, link = _sent(stack, gateway)
    size = document["page_sizes"][0]
    context = browser.new_context(viewport={"width": width, "height": 844}, locale="de-DE",
                                  timezone_id=TIME_ZONE)
    page = context.new_page()
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(error))
    page.goto(link)
    assert script_errors == []
    _no_sideways_scroll(page)

    # Each field is marked on its page, numbered and named, exactly where it sits.
    for number, ((_t, page_number, x, y, w, h, _r), name) in enumerate(zip(FIELDS, NAMES, strict=True), 1):
        marker = page.get_by_role("link", name=f"{number} {name}")
        expect(marker).to_have_count(1)
        image = page.locator("ol.pages > li").nth(page_number - 1).locator("img")
        image.scroll_into_view_if_needed()
        shown, sheet = marker.bounding_box(), image.bounding_box()
        scale = sheet["width"] / size["width"]
        assert abs(sheet["height"] - scale * size["height"]) <= 1.5  # the image is the page
        for got, want in ((shown["x"], sheet["x"] + x * scale), (shown["y"], sheet["y"] + y * scale),
                          (shown["width"], w * scale), (shown["height"], h * scale)):
            assert abs(got - want) <= 1.5, (name, shown, sheet)
        tag = marker.locator(".tag").bounding_box()
        assert sheet["x"] <= tag["x"] and tag["x"] + tag["width"] <= sheet["x"] + sheet["width"], name
    _no_sideways_scroll(page)

    # The consent checkbox sits beside its label, at its first line.
    box = page.locator("#consent").bounding_box()
    label = page.locator("label[for=consent]").bounding_box()
    assert box["x"] + box["width"] <= label["x"] and label["y"] <= box["y"] < label["y"] + 30

    # The date starts as today where the signer is, shown in their locale, sent as YYYY-MM-DD.
    date_input = page.get_by_label("Date on page 1")
    today = datetime.now(ZoneInfo(TIME_ZONE)).date().isoformat()
    expect(date_input).to_have_value(today)
    date_input.fill("2026-11-28")  # and the signer may change it
    expect(date_input).to_have_value("2026-11-28")

    violations = _serious(page)
    assert violations == [], violations

    # "Next field": the one required field still empty (text on page 2), where it sits, then on
    # to fill it in; once all are filled in, the Sign button.
    page.get_by_role("button", name="Next field").click()
    text_marker = page.get_by_role("link", name="3 Text on page 2")
    expect(text_marker).to_be_focused()
    expect(text_marker).to_be_in_viewport()
    expect(page.get_by_role("status")).to_contain_text("Field 3: Text on page 2")
    page.keyboard.press("Enter")
    text_input = page.get_by_label("Text on page 2")
    expect(text_input).to_be_focused()
    text_input.fill("ACME Ltd")
    date_input.fill("")
    page.get_by_role("button", name="Next field").click()
    expect(page.get_by_role("link", name="2 Date on page 1")).to_be_focused()
    date_input.fill("2026-11-28")
    page.get_by_role("button", name="Next field").click()
    expect(page.get_by_role("button", name="Sign", exact=True)).to_be_focused()
    expect(page.locator("#walk-progress")).to_have_text("4 of 4 required fields filled in.")

    page.get_by_label("I agree to sign this document electronically").check()
    errors = page.get_by_role("alert")
    # An empty required field: named as the signer sees it, once, and focused.
    text_input.fill("")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(errors).to_have_text("Text on page 2: please fill it in.")
    expect(text_input).to_be_focused()
    text_input.fill("ACME Ltd")

    # The server's own field error (the page's check bypassed): the field's name, once, no id.
    def drop_text_value(route):
        body = route.request.post_data_json
        body["fields"] = {k: v for k, v in body["fields"].items() if v != "ACME Ltd"}
        route.continue_(post_data=json.dumps(body))

    page.route("**/sign", drop_text_value)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(errors).to_contain_text("Text on page 2")
    shown = errors.inner_text()
    assert shown.count("Text on page 2") == 1 and "fld_" not in shown, shown
    expect(text_input).to_be_focused()
    assert _serious(page) == []
    _no_sideways_scroll(page)
    if width == 390 and os.environ.get("PACTRA_SCREENSHOTS"):
        page.locator("ol.pages > li").first.scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(os.environ["PACTRA_SCREENSHOTS"], "signer-page-390px.png"))
        page.screenshot(path=os.path.join(os.environ["PACTRA_SCREENSHOTS"], "signer-page-390px-full.png"),
                        full_page=True)
    page.unroute("**/sign")

    page.get_by_role("button", name="Sign", exact=True).click()
    page.get_by_role("status").get_by_text("you signed").wait_for(timeout=30_000)
    agreement = flows.get(gateway, account, _agreement_id(gateway, account))
    assert script_errors == []
    values = {f["type"]: f["value"] for f in agreement["fields"]}
    assert values["date"] == "2026-11-28" and values["text"] == "ACME Ltd"
    assert values["checkbox"] is False
    context.close()


def _agreement_id(gateway, account) -> str:
    listed = requests.get(gateway + "/v1/agreements", headers=auth(account), timeout=30).json()
    return listed["data"][0]["id"]
