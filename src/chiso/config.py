"""Where things live. Everything is overridable from the environment, nothing from code."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def project_dir() -> Path:
    """The checkout (dags/, dbt_project/, expectations/, sql/); CHISO_HOME overrides."""
    if "CHISO_HOME" in os.environ:
        return Path(os.environ["CHISO_HOME"]).resolve()
    for candidate in (Path.cwd(), *Path.cwd().parents, PACKAGE_DIR.parents[1]):
        if (candidate / "dbt_project" / "dbt_project.yml").exists():
            return candidate
    return PACKAGE_DIR.parents[1]


def state_dir() -> Path:
    """Local state: embedded PostgreSQL, Airflow home, logs, reports (git-ignored)."""
    path = Path(os.environ.get("CHISO_STATE_DIR", project_dir() / ".chiso"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    path = Path(os.environ.get("CHISO_REPORTS_DIR", state_dir() / "reports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    path = state_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sql_dir() -> Path:
    return project_dir() / "sql"


def dbt_dir() -> Path:
    return project_dir() / "dbt_project"


def expectations_dir() -> Path:
    return project_dir() / "expectations"


def dags_dir() -> Path:
    return project_dir() / "dags"


class ConfigError(RuntimeError):
    """A setting is missing or unusable; the message says which and how to set it."""


# The demo's and the tests' key: public, so its pseudonyms protect nothing. Used only when
# CHISO_PSEUDONYM_DEMO=1 (set by `chiso demo`, `chiso bench` and the test suite).
DEMO_PSEUDONYM_KEY = "chiso-demo-key-public-NOT-FOR-REAL-DATA"
MIN_KEY_BYTES = 16


def pseudonym_key() -> bytes:
    """The secret key of the HMAC-SHA256 that pseudonymises applicant references at landing.

    CHISO_PSEUDONYM_KEY (the key itself) or CHISO_PSEUDONYM_KEY_FILE (a file holding it,
    e.g. a Docker or Kubernetes secret). Without either, only a demo or test run
    (CHISO_PSEUDONYM_DEMO=1) proceeds, with the public demo key; anything else is an error:
    a citizen ID hashed without a secret is recovered by trying every ID."""
    key = os.environ.get("CHISO_PSEUDONYM_KEY", "")
    key_file = os.environ.get("CHISO_PSEUDONYM_KEY_FILE", "")
    if key and key_file:
        raise ConfigError("set CHISO_PSEUDONYM_KEY or CHISO_PSEUDONYM_KEY_FILE, not both")
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"CHISO_PSEUDONYM_KEY_FILE {key_file}: {err.strerror}") from None
    if not key:
        if os.environ.get("CHISO_PSEUDONYM_DEMO") == "1":
            return DEMO_PSEUDONYM_KEY.encode()
        raise ConfigError(
            "no pseudonymisation key: set CHISO_PSEUDONYM_KEY (or CHISO_PSEUDONYM_KEY_FILE) to a "
            "secret of at least 16 bytes, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`; demos and tests set "
            "CHISO_PSEUDONYM_DEMO=1 to use the public demo key")
    if len(key.encode()) < MIN_KEY_BYTES:
        raise ConfigError(f"the pseudonymisation key is {len(key.encode())} bytes; use at least "
                          f"{MIN_KEY_BYTES} (e.g. 64 hex digits from secrets.token_hex(32))")
    return key.encode()


def landing_workers() -> int:
    # Landing is CPU-bound in Python (reading, pseudonymising) while PostgreSQL COPYs, so
    # two processes overlap the two; more rarely help on a 2-core machine.
    value = os.environ.get("CHISO_LANDING_WORKERS", "2")
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(f"CHISO_LANDING_WORKERS must be a whole number, not {value!r}") from None


def audit_rollups() -> bool:
    """CHISO_AUDIT_ROLLUPS=1: every build also checks each quarter's and year's counts against
    its dossiers recomputed one by one (dbt var audit_rollups); slower as history grows."""
    return os.environ.get("CHISO_AUDIT_ROLLUPS") == "1"
