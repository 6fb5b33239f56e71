"""Saving what the user asks for: new files only, owner-only, and a refusal that says why first."""

from __future__ import annotations

from pathlib import Path

import pytest

from testdeck.files import chosen, readable, write_new


def test_a_refusal_names_the_reason_before_the_path(tmp_path):
    target = tmp_path / ("a-rather-long-folder-name-" * 4) / "table.csv"
    target.parent.mkdir()
    write_new(target, "x")
    with pytest.raises(OSError) as info:
        write_new(target, "y")
    assert readable(info.value) == f"already exists, choose another name: {target}"
    assert target.read_text() == "x"
    with pytest.raises(OSError) as info:
        write_new(tmp_path / "nowhere" / "t.csv", "y")
    assert readable(info.value) == f"no folder {tmp_path / 'nowhere'}"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_folder_that_exists_but_takes_no_file_is_not_called_missing():
    with pytest.raises(OSError) as info:
        write_new(Path("/proc/x.csv"), "y")
    assert readable(info.value) == "cannot create a file in /proc"  # it said "no folder /proc"


def test_a_bare_or_relative_name_goes_in_the_proposed_folder(tmp_path):
    proposed = tmp_path / "data" / "testdeck-x-alerts.csv"
    assert chosen("mine.json", proposed) == tmp_path / "data" / "mine.json"
    assert chosen(" sub/mine.csv ", proposed) == tmp_path / "data" / "sub" / "mine.csv"
    assert chosen(str(tmp_path / "abs.csv"), proposed) == tmp_path / "abs.csv"
    assert chosen("~/x.csv", proposed) == Path("~/x.csv").expanduser()
