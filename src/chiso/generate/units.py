"""The 2025 units to generate for, and each unit's stable size, quality and file habits."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

# Median monthly dossiers by unit type; lognormal around it, so a few busy wards receive
# thousands a month while remote communes receive tens (national mean ≈ 1,000).
MEDIAN_DOSSIERS = {"phường": 1_000.0, "xã": 620.0, "đặc khu": 420.0}
SIZE_SIGMA = 0.8


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str  # phường | xã | đặc khu
    province_code: str

    @property
    def title(self) -> str:
        """'xã Hùng Thắng', as a report names itself."""
        return f"{self.type} {self.name}"


@dataclass(frozen=True)
class Profile:
    """What makes a unit score differently, fixed for the unit across periods."""

    monthly_dossiers: float
    catalogue_size: int
    on_time: float
    online_share: float
    offered_online: float
    full_share: float
    sync: float
    e_result: float
    digitised: float
    reused: float
    citizen_db: float
    personal_storage: float
    payment_online: float
    payment_coverage: float
    published_on_time: float
    publicised_on_time: float
    publication_complete: float
    offers_e_copy: bool
    feedback_rate: float
    feedback_on_time: float
    unsatisfied: float
    # file habits
    file_format: str  # csv | xlsx
    xlsx_dates: str  # excel | text
    csv_style: str  # plain | excel (UTF-8 BOM, CRLF)
    json_source: str | None  # one source delivered as JSON instead
    writes_report: bool
    # the cases of 2.1, 3.6 and 5.2 that plain data never reaches (drawn last, so that
    # adding them left the other fields as they were)
    supplement_rate: float  # dossiers with a request for a supplement
    missing_due: float  # dossiers whose appointment date the system left blank
    returned_only: float  # returned dossiers with a return time but no completion time
    refused_undated: float  # refusals recorded without a completion time
    fee_blank: float  # dossiers of fee-bearing procedures with the fee left blank
    fee_on_free: float  # dossiers of procedures without a fee that carry a charge
    limit_missing: float  # catalogue rows without the legal time limit
    feedback_supplement: float  # feedback items with a request for more information
    feedback_published: float  # answered feedback items published
    xlsx_headers: str  # contract | alias: the Vietnamese headers of the contract, or other spellings
    xlsx_footer: bool  # a totals row and a signature block below the data
    xlsx_numbering: bool  # a row numbering the columns under the header, as printed forms have


def load_units() -> list[Unit]:
    text = resources.files("chiso").joinpath("data/communes_2025.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    units = [Unit(r["code"], r["name"], r["type"], r["province_code"]) for r in rows]
    return sorted(units, key=lambda u: u.code)


def load_provinces() -> dict[str, tuple[str, str]]:
    """province code → (name, type)."""
    text = resources.files("chiso").joinpath("data/provinces_2025.csv").read_text(encoding="utf-8")
    return {r["code"]: (r["name"], r["type"]) for r in csv.DictReader(text.splitlines())}


def _unit_between(rng: np.random.Generator, quality: float, low: float, high: float,
                  noise: float = 0.12) -> float:
    """A rate between low and high that follows the unit's overall quality, with its own noise."""
    position = float(np.clip(quality + rng.normal(0.0, noise), 0.0, 1.0))
    return low + (high - low) * position


def profile_for(unit: Unit, seed: int, *, mixed_formats: bool) -> Profile:
    rng = np.random.default_rng([seed, int(unit.code), 766_100])
    quality = float(rng.beta(1.7, 1.0))
    median = MEDIAN_DOSSIERS.get(unit.type, 620.0)
    monthly = float(np.clip(median * rng.lognormal(0.0, SIZE_SIGMA), 15, 12_000))
    catalogue = int(np.clip(150 + 250 * (np.log(monthly) - np.log(15)) / np.log(800) + rng.normal(0, 30),
                            150, 400))
    file_format = "xlsx" if mixed_formats and rng.random() < 0.5 else "csv"
    json_source = None
    if mixed_formats and rng.random() < 0.08:
        # Only sources that are never empty: an empty JSON array carries no column names.
        json_source = str(rng.choice(["ho_so", "danh_muc_tthc"]))
    return Profile(
        monthly_dossiers=monthly,
        catalogue_size=catalogue,
        on_time=_unit_between(rng, quality, 0.70, 1.0, 0.2),
        online_share=_unit_between(rng, quality, 0.20, 1.0, 0.25),
        offered_online=_unit_between(rng, quality, 0.55, 1.0, 0.2),
        full_share=_unit_between(rng, quality, 0.35, 0.75),
        sync=min(1.0, _unit_between(rng, quality, 0.72, 1.04, 0.2)),
        e_result=_unit_between(rng, quality, 0.1, 1.0, 0.2),
        digitised=_unit_between(rng, quality, 0.2, 1.0, 0.2),
        reused=_unit_between(rng, quality, 0.02, 0.95, 0.25),
        citizen_db=_unit_between(rng, quality, 0.05, 0.95, 0.2),
        personal_storage=_unit_between(rng, quality, 0.0, 0.45, 0.3),
        payment_online=_unit_between(rng, quality, 0.1, 1.0, 0.25),
        payment_coverage=_unit_between(rng, quality, 0.78, 0.99),
        published_on_time=_unit_between(rng, quality, 0.35, 1.0, 0.25),
        publicised_on_time=_unit_between(rng, quality, 0.5, 1.0, 0.25),
        publication_complete=_unit_between(rng, quality, 0.88, 1.0, 0.2),
        offers_e_copy=bool(rng.random() < 0.9),
        # Weaker units draw more complaints; about 1.3 items per 1,000 dossiers overall, as
        # Phú Thọ's 247 for 184,513 dossiers in 8/2026 (index-766.md §6 B).
        feedback_rate=float(rng.choice([0.0, 0.7, 2.3, 5.8], p=[0.35, 0.3, 0.25, 0.1])) * (1.6 - quality),
        feedback_on_time=_unit_between(rng, quality, 0.5, 1.0, 0.25),
        unsatisfied=_unit_between(rng, 1.0 - quality, 0.0, 0.35, 0.2),
        file_format=file_format,
        xlsx_dates="excel" if rng.random() < 0.6 else "text",
        csv_style="excel" if rng.random() < 0.35 else "plain",
        json_source=json_source,
        writes_report=bool(rng.random() < 0.2),
        supplement_rate=_unit_between(rng, 1.0 - quality, 0.03, 0.14),
        missing_due=_unit_between(rng, 1.0 - quality, 0.0, 0.02),
        returned_only=_unit_between(rng, 1.0 - quality, 0.01, 0.10),
        refused_undated=_unit_between(rng, 1.0 - quality, 0.1, 0.6),
        fee_blank=_unit_between(rng, 1.0 - quality, 0.0, 0.05),
        fee_on_free=_unit_between(rng, 1.0 - quality, 0.0, 0.01),
        limit_missing=_unit_between(rng, 1.0 - quality, 0.0, 0.04),
        feedback_supplement=_unit_between(rng, quality, 0.05, 0.3),
        feedback_published=_unit_between(rng, quality, 0.2, 0.8),
        # drawn after every other field, which therefore stayed as they were
        xlsx_headers="alias" if rng.random() < 0.3 else "contract",
        xlsx_footer=bool(rng.random() < 0.25),
        xlsx_numbering=bool(rng.random() < 0.2),
    )
