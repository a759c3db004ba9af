"""Applicant references: keyed HMAC-SHA256, a key required outside demos and tests."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chiso import config, landing

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def no_key(monkeypatch):
    for variable in ("CHISO_PSEUDONYM_KEY", "CHISO_PSEUDONYM_KEY_FILE", "CHISO_PSEUDONYM_DEMO"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_a_missing_key_is_an_error_outside_demo_and_tests(no_key):
    with pytest.raises(config.ConfigError, match="CHISO_PSEUDONYM_KEY"):
        config.pseudonym_key()
    with pytest.raises(config.ConfigError, match="CHISO_PSEUDONYM_KEY"):
        landing.land([], None, "r1", dsn="postgresql://never-reached")


def test_demo_and_tests_use_the_labelled_public_key(no_key):
    no_key.setenv("CHISO_PSEUDONYM_DEMO", "1")
    assert config.pseudonym_key() == config.DEMO_PSEUDONYM_KEY.encode()
    assert "NOT-FOR-REAL-DATA" in config.DEMO_PSEUDONYM_KEY


def test_key_from_environment_or_file(no_key, tmp_path):
    no_key.setenv("CHISO_PSEUDONYM_KEY", KEY)
    assert config.pseudonym_key() == KEY.encode()
    no_key.delenv("CHISO_PSEUDONYM_KEY")
    (tmp_path / "key").write_text(KEY + "\n")
    no_key.setenv("CHISO_PSEUDONYM_KEY_FILE", str(tmp_path / "key"))
    assert config.pseudonym_key() == KEY.encode()
    no_key.setenv("CHISO_PSEUDONYM_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(config.ConfigError, match="missing"):
        config.pseudonym_key()


def test_short_keys_are_refused(no_key):
    no_key.setenv("CHISO_PSEUDONYM_KEY", "short")
    with pytest.raises(config.ConfigError, match="at least 16"):
        config.pseudonym_key()


def test_pseudonyms_are_hmac_sha256_and_depend_on_the_key(no_key):
    no_key.setenv("CHISO_PSEUDONYM_KEY", KEY)
    citizen = "001203004567"
    [ref, blank, none] = landing.pseudonymise([citizen, "", None])
    assert ref == hmac.new(KEY.encode(), citizen.encode(), hashlib.sha256).hexdigest()[:24]
    assert blank is None and none is None
    # the old scheme (public salt, plain sha256) is gone: a guessed ID no longer matches
    assert ref != hashlib.sha256(b"chiso-default-salt" + citizen.encode()).hexdigest()[:24]
    other = landing.pseudonymise([citizen], key=b"another-secret-key-of-32-bytes!!")
    assert other != [ref]
    # the key id names the key, never reveals it
    assert landing.pseudonym_key_id() != landing.pseudonym_key_id(b"another-secret-key-of-32-bytes!!")
    assert KEY not in landing.pseudonym_key_id()
