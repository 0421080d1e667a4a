"""Charset and header decoding cases that need no pipeline: each one a way real mail broke
other parsers (see tests/parse/test_attachments_charsets.py for the same through `deliver`)."""

from __future__ import annotations

import base64

from mailgate.charsets import codec_for, decode_bytes
from mailgate.encoded_words import decode_words
from mailgate.parse import parse_message


def test_aliases_python_does_not_know() -> None:
    assert codec_for("ks_c_5601-1987") == "cp949"
    assert codec_for("Shift_JIS") == "cp932"
    assert codec_for("GB2312") == "gb18030"
    assert codec_for("unknown-8bit") is None and codec_for("no-such-charset") is None


def test_undecodable_bytes_are_kept_one_char_each() -> None:
    data = bytes(range(128, 256))
    text, used = decode_bytes(data, "utf-8")  # a wrong label: not UTF-8 at all
    assert "\ufffd" not in text
    assert text.encode(used) == data  # decoded strictly: the bytes round-trip, nothing dropped


def test_iso2022jp_with_extensions_falls_back() -> None:
    data = "①山﨑".encode("iso2022_jp_2004")  # JIS X 0213: plain iso2022_jp refuses it
    text, _ = decode_bytes(data, "iso-2022-jp")
    assert text == "①山﨑"


def test_multibyte_character_split_across_encoded_words() -> None:
    raw = "日本語の件名".encode()
    first, second = base64.b64encode(raw[:4]).decode(), base64.b64encode(raw[4:]).decode()
    assert decode_words(f"=?utf-8?B?{first}?= =?utf-8?B?{second}?=") == "日本語の件名"


def test_html_meta_charset_is_used_when_mime_names_none() -> None:
    body = "Принтер".encode("koi8-r")
    raw = (b"From: a@example.com\nSubject: x\nContent-Type: text/html\n\n"
           b'<html><head><meta charset="koi8-r"></head><body>' + body + b"</body></html>\n")
    assert "Принтер" in parse_message(raw).text_html


def test_encoded_comma_in_display_name_does_not_split_the_address() -> None:
    raw = b"From: =?iso-8859-1?Q?B=FCrling,=20Andreas?= <smith@example.com>\nSubject: x\n\nbody\n"
    p = parse_message(raw)
    assert (p.from_name, p.from_addr) == ("Bürling, Andreas", "smith@example.com")


def test_encoded_local_part_is_not_decoded_into_another_address() -> None:
    raw = b"From: =?utf-8?Q?attacker?Q?agent?=@victim.example\nSubject: x\n\nbody\n"
    assert parse_message(raw).from_addr != "attacker@victim.example"


def test_missing_from_falls_back_to_reply_to() -> None:
    raw = b"To: helpdesk@example.com\nReply-To: <vip@customer.example>\nSubject: x\n\nbody\n"
    assert parse_message(raw).from_addr == "vip@customer.example"


def _with_file(name: str, body_charset: str, encoding: str) -> bytes:
    return ("From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
            f"--b\nContent-Type: text/plain; charset={body_charset}\n\nhi\n--b\n"
            f'Content-Type: application/pdf; name="{name}"\nContent-Disposition: attachment; filename="{name}"\n\n'
            "xx\n--b--\n").encode(encoding)


def test_raw_8bit_file_names_in_the_message_charset() -> None:
    for name, charset, encoding in (("Grüße 資料.pdf", "utf-8", "utf-8"), ("Grüße.pdf", "iso-8859-1", "latin-1"),
                                    ("資料 ①.pdf", "shift_jis", "cp932")):
        [att] = parse_message(_with_file(name, charset, encoding)).attachments
        assert att.filename == name, charset


def test_raw_8bit_subject_follows_the_multibyte_part_not_a_wrong_top_label() -> None:
    raw = ("From: a@example.com\nSubject: 转发：整体提升企业服务水平\nMIME-Version: 1.0\n"
           "Content-Type: multipart/alternative; charset=iso-8859-1; boundary=b\n\n"
           "--b\nContent-Type: text/plain; charset=gb2312\n\n您好\n--b--\n").encode("gb18030")
    assert parse_message(raw).subject == "转发：整体提升企业服务水平"
