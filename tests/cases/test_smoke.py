import pytest

from tests import builders
from tests.cases import builders as cb


@pytest.mark.django_db
def test_file_and_approve_suspension(django_capture_on_commit_callbacks):
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    with django_capture_on_commit_callbacks(execute=True):
        case = cb.approved("suspension", m, [t.tid])
    assert case.state == "approved"
