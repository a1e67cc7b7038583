import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from posfleet.core import uploads
from posfleet.core.errors import ValidationFailed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_accepted_by_content_not_by_name():
    checked = uploads.check(SimpleUploadedFile("photo.txt", PNG), 1024)
    assert (checked.content_type, checked.ext, checked.size) == ("image/png", "png", len(PNG))
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("content", "limit", "field_message"),
    [
        (b"", 1024, "The file is empty."),
        (b"MZ\x90\x00 not a document", 1024, "The content is not a PDF, JPEG or PNG file."),
        (PNG, 8, "At most 0.0 MB."),
    ],
)
def test_refused_with_a_reason(content, limit, field_message):
    with pytest.raises(ValidationFailed) as caught:
        uploads.check(SimpleUploadedFile("a.pdf", content), limit)
    assert caught.value.details["file"] == [field_message]
