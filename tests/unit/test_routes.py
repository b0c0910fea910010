"""The page paths' segments, read as the route's own argument vars read them."""

from __future__ import annotations

from app.ui import routes


def test_a_path_segment_is_counted_from_the_end_and_decoded() -> None:
    assert routes.path_segment("/forms/frm_1") == "frm_1"
    assert routes.path_segment("/forms/frm_1/") == "frm_1"
    assert routes.path_segment("/forms/frm_1/submissions", 2) == "frm_1"
    assert routes.path_segment("/f/caf%C3%A9%20menu") == "café menu"


def test_a_segment_past_the_start_of_the_path_is_empty() -> None:
    assert routes.path_segment("/", 1) == ""
    assert routes.path_segment("/forms", 2) == ""
