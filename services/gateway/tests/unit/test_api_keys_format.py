"""The key format: prefix, checksum, hash (no server needed)."""

from pactra_gateway.domain import api_keys


def test_generated_keys_are_well_formed_and_distinct():
    keys = {api_keys.generate() for _ in range(200)}
    assert len(keys) == 200
    assert all(key.startswith("pct_live_") and api_keys.well_formed(key) for key in keys)


def test_a_typo_fails_the_checksum():
    key = api_keys.generate()
    position = len("pct_live_") + 5
    typo = key[:position] + ("A" if key[position] != "A" else "B") + key[position + 1:]
    assert not api_keys.well_formed(typo)
    assert not api_keys.well_formed(key[:-1])
    assert not api_keys.well_formed("pct_test_" + key[9:])


def test_only_a_sha256_is_kept():
    key = api_keys.generate()
    digest = api_keys.hash_key(key)
    assert len(digest) == 64 and key not in digest
    assert api_keys.display_prefix(key) == key[:12]


def test_test_keys_have_their_own_prefix_and_checksum():
    key = api_keys.generate("test")
    assert key.startswith("pct_test_") and api_keys.well_formed(key)
    assert api_keys.mode_of_prefix(api_keys.display_prefix(key)) == "test"
    assert api_keys.mode_of_prefix(api_keys.display_prefix(api_keys.generate())) == "live"
    # The prefix is covered by a test key's checksum: swapping it makes the key malformed.
    assert not api_keys.well_formed("pct_live_" + key[9:])
