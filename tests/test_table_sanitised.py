"""Table cells: every control, C1 and bidi character becomes a visible stand-in (issue #6, item 2)."""

from testdeck.widgets.table import TableData, clean


def test_c0_c1_and_bidi_never_reach_a_cell():
    hostile = "a\x1b]52;c;QQ==\x07b\x9b2Jc\u202ed\u2066e\x7f"
    cell = clean(hostile)
    assert not any(ch in cell for ch in "\x1b\x07\x9b\u202e\u2066\x7f")
    assert "␛" in cell  # visible, not silently dropped
    data = TableData.build(["h"], [("k", (hostile,))])
    assert data.rows[0][0] == cell


def test_plain_text_is_untouched():
    assert clean("Disk [/var] ünïcødé 🚀") == "Disk [/var] ünïcødé 🚀"


def test_every_character_the_sanitiser_replaces_is_unprintable():
    """sanitize and the line filter skip their regex for text str.isprintable() clears: that is safe
    only while every character they replace is one it calls unprintable."""
    import sys

    from testdeck.text import sanitize, unsafe

    replaced = [chr(c) for c in range(sys.maxunicode + 1) if unsafe().match(chr(c))]
    assert len(replaced) == 32 + 33 + 1 + 2 + 5 + 4  # C0, DEL and C1, ALM, LRM/RLM, embeddings, isolates
    assert not any(ch.isprintable() for ch in replaced)
    assert all(sanitize(f"a{ch}b") != f"a{ch}b" for ch in replaced)
    assert sanitize("Disk [/var] ünïcødé 🚀\u00a0") == "Disk [/var] ünïcødé 🚀\u00a0"  # (NBSP: unprintable, safe)
