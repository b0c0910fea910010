"""A file's type comes from its bytes; its name is made harmless to store and send back."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.files import sniffing
from app.files.names import content_disposition, safe_name
from app.files.sniffing import sniff
from app.files.storage import InvalidKey, check_key


def _zip(*members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            archive.writestr(member, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "expected"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", sniffing.PNG),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", sniffing.JPEG),
    (b"GIF89a\x01\x00\x01\x00", sniffing.GIF),
    (b"GIF87a\x01\x00", sniffing.GIF),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", sniffing.WEBP),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", sniffing.PDF),
])
def test_magic_numbers_name_images_and_pdf(data: bytes, expected: str) -> None:
    assert sniff(data) == expected


def test_a_zip_archive_is_zip_and_office_documents_are_told_apart() -> None:
    assert sniff(_zip("a.txt")) == sniffing.ZIP
    assert sniff(_zip("[Content_Types].xml", "word/document.xml")) == sniffing.DOCX
    assert sniff(_zip("[Content_Types].xml", "xl/workbook.xml")) == sniffing.XLSX


def test_utf8_text_is_plain_text_and_csv_only_when_named_so() -> None:
    assert sniff("Grüße, world\n".encode()) == sniffing.TEXT
    assert sniff(b"a,b\n1,2\n", "report.CSV") == sniffing.CSV
    assert sniff(b"a,b\n1,2\n", "report.txt") == sniffing.TEXT


def test_json_is_recognised_only_when_it_parses() -> None:
    assert sniff(b' {"a": [1, 2]}\n') == sniffing.JSON
    assert sniff(b"[1, 2]") == sniffing.JSON
    assert sniff(b"{not json") == sniffing.TEXT


@pytest.mark.parametrize("data", [b"", b"text\x00with nul", b"\xff\xfe\xfa\x00", b"\xc3\x28"])
def test_anything_else_is_an_octet_stream(data: bytes) -> None:
    assert sniff(data) == sniffing.OCTET_STREAM


def test_the_name_never_decides_the_type() -> None:
    assert sniff(b"%PDF-1.4", "photo.png") == sniffing.PDF
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00", "notes.txt") == sniffing.OCTET_STREAM


@pytest.mark.parametrize(("raw", "expected"), [
    ("invoice.pdf", "invoice.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\report.xlsx", "report.xlsx"),
    ("bad\x00na\nme.txt", "badname.txt"),
    ("..", "file"),
    ("", "file"),
    (None, "file"),
    ("Cafe\u0301.txt", "Café.txt"),
])
def test_a_safe_name_keeps_only_the_last_plain_segment(raw: str | None, expected: str) -> None:
    assert safe_name(raw) == expected


def test_a_long_name_is_cut_but_keeps_its_extension() -> None:
    name = safe_name("x" * 400 + ".pdf")
    assert len(name) == 255
    assert name.endswith("x.pdf")


def test_content_disposition_is_an_attachment_with_a_utf8_name() -> None:
    header = content_disposition('Grüße "q".pdf')
    assert header.startswith('attachment; filename="Gr__e _q_.pdf"; ')
    assert header.endswith("filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22q%22.pdf")


@pytest.mark.parametrize("key", ["../x", "a/../b", "/abs", "a//b", "", ".hidden", "a/./b",
                                 "a\\b", "a/b/", "ws_1/fil 2"])
def test_storage_keys_that_could_escape_the_root_are_refused(key: str) -> None:
    with pytest.raises(InvalidKey):
        check_key(key)


def test_plain_storage_keys_are_accepted() -> None:
    assert check_key("ws_01abc/fil_01xyz") == "ws_01abc/fil_01xyz"
