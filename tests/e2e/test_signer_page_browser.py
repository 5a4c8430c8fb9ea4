"""The signer page in a real browser (Debian's Chromium driven by Playwright): open the
mailed link, consent, sign, see the confirmation — and axe-core finds no serious or critical
accessibility violation."""


from axe_playwright_python.sync_playwright import Axe

from pactra_devtools.testing import wait_until

from . import flows


def _serious(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_a_signer_signs_in_the_browser_by_keyboard_and_the_page_is_accessible(stack, gateway, browser):
    account, document, agreement, link = flows.sent_to_one_signer(stack, gateway)
    signer_name = agreement["signers"][0]["name"]

    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    requests_outside = []
    page.on("request", lambda r: None if r.url.startswith(gateway) else requests_outside.append(r.url))
    page.goto(link)
    assert page.title().startswith("Master services agreement")
    images = page.locator("ol.pages img")
    assert images.count() == document["pages"]
    images.first.scroll_into_view_if_needed()
    wait_until(lambda: page.evaluate("document.querySelector('ol.pages img').naturalWidth") > 0, 30)

    violations = _serious(Axe().run(page))
    assert violations == [], violations

    # Keyboard only: every control is reachable and labelled.
    page.get_by_label("I agree to sign this document electronically").focus()
    page.keyboard.press("Space")
    date_input = page.get_by_label("Date on page 1")
    date_input.fill("2026-11-28")
    page.get_by_label("Your full name as your signature").fill(signer_name)
    page.get_by_role("button", name="Sign").focus()
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    status.get_by_text("you signed").wait_for(timeout=30_000)
    assert "agreement is now complete" in status.inner_text()
    assert requests_outside == []

    assert _serious(Axe().run(page)) == []
    done = flows.wait_for_evidence(gateway, account, agreement["id"])
    assert done["status"] == "completed"
    page.goto(link)
    assert page.get_by_role("heading", name="You have signed this agreement.").is_visible()
    assert page.get_by_role("link", name="Download the signed copy (PDF)").is_visible()
    context.close()


def test_drawing_a_signature_with_the_pointer(stack, gateway, browser):
    account, _, agreement, link = flows.sent_to_one_signer(stack, gateway)
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.get_by_label("I agree to sign this document electronically").check()
    page.get_by_label("Date on page 1").fill("2026-11-28")
    page.get_by_label("Draw it").check()
    pad = page.get_by_role("img", name="Signature drawing area")
    # The signer scrolls to the pad first: the page is longer than the window, and the "Next
    # field" bar stays fixed at its bottom edge.
    pad.evaluate("element => element.scrollIntoView({block: 'center'})")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 3) * 15)
    page.mouse.up()
    page.get_by_role("button", name="Sign").click()
    page.get_by_role("status").get_by_text("you signed").wait_for(timeout=30_000)
    signed = flows.get(gateway, account, agreement["id"])
    assert signed["signers"][0]["status"] == "signed"
    context.close()
