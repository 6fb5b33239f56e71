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
