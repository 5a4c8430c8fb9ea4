"""Sender display names: control characters and look-alike brands are refused."""

import pytest

from pactra_contracts.display_names import display_name_problem, skeleton


@pytest.mark.parametrize("name", [
    "Ada Lovelace", "Zo\u00eb Smith", "Jos\u00e9 Mar\u00eda", "\u674e\u534e", "O'Brien & Sons",
    "Patricia Actra",  # "pactra" only across a word gap that is not a look-alike: a c t r a
    "Security Consulting", "Payroll Partners",
])
def test_ordinary_names_pass(name):
    assert display_name_problem(name) is None


@pytest.mark.parametrize("name", [
    "Pactra", "PACTRA Billing", "P\u0430ctra",  # Cyrillic a
    "\uff30\uff41\uff43\uff54\uff52\uff41",  # full-width
    "P.a.c.t.r.a", "Pactr\u0430 Team", "D0cuSign", "Docu Sign", "PayPaI", "Paypa1",
    "Security Team", "security-team", "S\u0435curity T\u0435am", "Adobe Sign", "Support  Team",
    "\U0001d40f\U0001d41a\U0001d41c\U0001d42d\U0001d42b\U0001d41a",  # mathematical bold
])
def test_look_alike_brands_are_refused(name):
    problem = display_name_problem(name)
    assert problem is not None and "looks like" in problem


@pytest.mark.parametrize("name", ["Ada\u202eecalevoL", "Ada\u200bLovelace", "Ada\nLovelace",
                                  "Ada\x00", "Ada\u2028Lovelace"])
def test_control_and_invisible_characters_are_refused(name):
    problem = display_name_problem(name)
    assert problem is not None and "control or invisible" in problem


def test_the_skeleton_folds_look_alikes_together():
    assert skeleton("P\u0430ypa1") == skeleton("PayPal") == skeleton("PAYPAL")
