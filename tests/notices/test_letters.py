import shutil
import subprocess
from pathlib import Path

import pytest

from posfleet.notices import letters
from tests import builders as b
from tests.notices.builders import letter

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")


def _run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


@needs_poppler
def test_chinese_letter_has_embedded_font_text_and_renders(tmp_path):
    m = b.merchant(name="上海示例餐饮有限公司")
    n = letter(m)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(n.pdf_bytes)

    text = _run("pdftotext", "-enc", "UTF-8", str(pdf), "-").stdout.decode()
    compact = "".join(text.split())
    assert "确认函" in compact
    assert "上海示例餐饮有限公司" in compact
    assert "示例支付有限公司" in compact  # the institution
    assert n.code in compact
    assert "¥1,234.56" in compact  # fee in yuan from 123456 fen
    assert "T0000001" in compact and "/verify/" in compact
    assert "95000" in compact  # the official hotline (POSFLEET_HOTLINE)

    fonts = _run("pdffonts", str(pdf)).stdout.decode().splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb column
    assert any("NotoSansCJK" in line for line in fonts)

    _run("pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page"))
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000


@needs_poppler
def test_english_letter_on_request(tmp_path):
    n = letter(b.merchant(name="Acme Coffee"), language="en", title="Confirmation letter")
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(n.pdf_bytes)
    text = _run("pdftotext", str(pdf), "-").stdout.decode()
    assert "Confirmation letter" in text
    assert "Verification code" in text
    assert "Suspension fee" in text


def test_yuan_formatting_is_exact():
    assert letters.yuan(0) == "¥0.00"
    assert letters.yuan(5) == "¥0.05"
    assert letters.yuan(123456789) == "¥1,234,567.89"
    assert letters.yuan(-250) == "-¥2.50"


def test_stored_pdf_tampering_is_detected():
    n = letter(b.merchant())
    path = n.pdf_file
    path.write_bytes(path.read_bytes() + b"x")
    assert n.pdf_bytes is None


@needs_poppler
@pytest.mark.skipif(
    not (Path(__file__).parents[2] / "src/posfleet/notices/locale/zh_Hans/LC_MESSAGES/django.mo").exists(),
    reason="translations not compiled (scripts/bootstrap compiles them)",
)
def test_chinese_letter_labels_are_chinese(tmp_path):
    n = letter(b.merchant())
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(n.pdf_bytes)
    compact = "".join(_run("pdftotext", "-enc", "UTF-8", str(pdf), "-").stdout.decode().split())
    assert f"验证码：{n.code}" in compact
    assert "停机费" in compact and "工单编号" in compact


def test_institution_and_public_url_from_settings(settings):
    # settings.py reads POSFLEET_INSTITUTION and POSFLEET_PUBLIC_URL from the environment at start-up
    settings.POSFLEET_INSTITUTION = "Settings Pay Ltd"
    assert letters.institution_name() == "Settings Pay Ltd"
    settings.POSFLEET_PUBLIC_URL = "https://pay.example/"
    assert letters.verify_url() == "https://pay.example/verify/"


def test_stored_codes_print_as_words():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert letters.format_value("reason", "renovation_or_relocation") == "装修或搬迁"
        assert letters.format_value("reason", "business_change") == "经营变更"
        assert letters.format_value("condition", "damaged") != "damaged"
    with translation.override("en"):
        assert letters.format_value("reason", "renovation_or_relocation") == "Renovation or relocation"
