import pytest


@pytest.fixture(autouse=True)
def _english(settings):
    """Tests read messages in English unless they switch language themselves."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """Argon2 is the production hasher (asserted in tests/accounts); tests hash with MD5 for speed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _huey_immediate():
    """Jobs run inline in tests (in memory), so enqueued work is visible to the test that enqueued it."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Pages name static files without `collectstatic`'s manifest (tests/core/test_static.py covers the
    hashed, compressed files the server serves)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Uploaded and generated files (materials, letters, exports) go to a per-test directory."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    settings.MEDIA_ROOT = settings.VAR_DIR / "media"


@pytest.fixture
def login(client):
    """Sign the test client in as a new staff user of `role`; returns the user.

    `stepped_up` marks the session as verified just now, as a password or TOTP check would."""
    from django.utils import timezone

    from posfleet.accounts.stepup import SESSION_KEY
    from tests import builders

    def sign_in(role="admin", *, username="", password="pw-for-tests-1", stepped_up=False):
        user = builders.user(username, role, password=password)
        client.force_login(user)
        if stepped_up:
            session = client.session
            session[SESSION_KEY] = timezone.now().isoformat()
            session.save()
        return user

    return sign_in


@pytest.fixture
def kind():
    """Register a job kind for this test alone: `kind(name, handler, **options)` returns its name."""
    from posfleet.jobs import registry

    added = []

    def register(name, handler, **options):
        options.setdefault("label", name)
        registry.register(name, **options)(handler)
        added.append(name)
        return name

    yield register
    for name in added:
        registry._KINDS.pop(name, None)
