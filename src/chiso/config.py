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


def pseudonym_salt() -> str:
    # Applicant references are hashed with this salt at landing (no personal data downstream).
    return os.environ.get("CHISO_PSEUDONYM_SALT", "chiso-default-salt")


def landing_workers() -> int:
    # Landing is CPU-bound in Python (reading, pseudonymising) while PostgreSQL COPYs, so
    # two processes overlap the two; more rarely help on a 2-core machine.
    value = os.environ.get("CHISO_LANDING_WORKERS", "2")
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(f"CHISO_LANDING_WORKERS must be a whole number, not {value!r}") from None
