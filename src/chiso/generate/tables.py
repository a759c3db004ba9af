"""One unit's rows for one period: dossiers, payments, feedback and the procedure catalogue.

Everything is drawn with numpy for the whole unit at once. Dates follow one snapshot: the
unit exports at the end of the period, so a dossier finished after that moment is still
in progress in the file, and statuses always agree with the dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chiso.generate.catalogue import ProcedurePool, UnitCatalogue
from chiso.generate.units import Profile, Unit
from chiso.periods import Period

Table = dict[str, np.ndarray]  # contract column → values (datetime64[s] with NaT, bool, int64, object)

DAY = np.timedelta64(1, "D")
# Public holidays (Tết, Hùng Kings, 30/4–1/5, National Day): desks are closed and deadlines
# skip them, as the one-stop systems count working days.
HOLIDAYS = np.array([
    "2024-01-01", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14", "2024-04-18",
    "2024-04-29", "2024-04-30", "2024-05-01", "2024-09-02", "2024-09-03",
    "2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-04-07",
    "2025-04-30", "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02",
    "2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-04-27",
    "2026-04-30", "2026-05-01", "2026-09-01", "2026-09-02",
], dtype="datetime64[D]")
OPENING, OFFICE_SECONDS = 27_000, 36_000  # 07:30, ten hours
SECONDS_PER_DAY = 86_400
# Hourly shape of online submissions: citizens file in the evening too, rarely at night.
ONLINE_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 10, 8, 6, 7, 9, 10, 9, 7, 6, 7, 8, 7, 5, 2], float)


def _text(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


def _padded(numbers: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")


def _join(*parts: object) -> np.ndarray:
    return _text(pc.binary_join_element_wise(*parts, ""))


def _timestamps(seconds: np.ndarray) -> np.ndarray:
    return np.asarray(seconds, dtype="datetime64[s]")


@dataclass
class Figures:
    """What the unit's own monthly report states (before any deliberate reporting error)."""

    carried_over: int
    received: int
    online: int
    direct: int
    postal: int
    total: int
    on_time: int  # resolved on or before the appointment
    resolved_late: int
    in_progress_on_time: int
    in_progress_overdue: int
    system_city: int
    system_ministry: int
    procedures_full: int
    procedures_partial: int
    feedback: int
    feedback_handled: int
    e_result_rate: float
    digitised_rate: float
    reused_rate: float
    online_payment_rate: float


@dataclass
class UnitPeriod:
    tables: dict[str, Table] = field(default_factory=dict)
    figures: Figures | None = None


def _snapshot(period: Period) -> np.datetime64:
    """The moment the unit exports its data: the last second of the period."""
    return np.datetime64(period.end, "D").astype("datetime64[s]") + np.timedelta64(SECONDS_PER_DAY - 1, "s")


def _period_days(period: Period) -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(np.datetime64(period.start, "D"), np.datetime64(period.end, "D") + DAY)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    # Holidays count as Sundays: no desk service, fewer online filings.
    weekday = np.where(np.isin(days, HOLIDAYS), 6, weekday)
    return days, weekday


def _received_at(rng: np.random.Generator, period: Period, online: np.ndarray) -> np.ndarray:
    n = len(online)
    days, weekday = _period_days(period)
    desk_weight = np.select([weekday < 5, weekday == 5], [1.0, 0.25], 0.0)
    web_weight = np.where(weekday < 5, 1.0, 0.4)
    desk_day = rng.choice(len(days), n, p=desk_weight / desk_weight.sum())
    web_day = rng.choice(len(days), n, p=web_weight / web_weight.sum())
    day = np.where(online, web_day, desk_day)
    # Desk hours 07:30–11:30 and 13:30–17:00; Saturday desks open in the morning only.
    saturday = weekday[day] == 5
    morning = saturday | (rng.random(n) < 0.58)
    desk_seconds = np.where(morning, 27_000 + rng.random(n) * 14_400, 48_600 + rng.random(n) * 12_600)
    web_hour = rng.choice(24, n, p=ONLINE_HOURS / ONLINE_HOURS.sum())
    web_seconds = web_hour * 3_600 + rng.random(n) * 3_600
    seconds = np.where(online, web_seconds, desk_seconds).astype(np.int64)
    return days[day].astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def _add_working_days(moment: np.ndarray, working_days: np.ndarray) -> np.ndarray:
    """Appointment = the n-th working day after reception, at the same (office) time of day."""
    day = moment.astype("datetime64[D]")
    due_day = np.busday_offset(day, working_days, roll="forward", holidays=HOLIDAYS)
    time_of_day = np.clip((moment - day.astype("datetime64[s]")).astype(np.int64), 28_800, 61_200)
    return due_day.astype("datetime64[s]") + time_of_day.astype("timedelta64[s]")


def _seconds(rng_values: np.ndarray) -> np.ndarray:
    return rng_values.astype(np.int64).astype("timedelta64[s]")


def _office_hours(moment: np.ndarray, not_before: np.ndarray) -> np.ndarray:
    """Staff act on working days between 07:30 and 17:30: squeeze the time of day into that
    window (keeping the order of events within a day) and move weekends to the next working day."""
    day = moment.astype("datetime64[D]")
    time_of_day = (moment - day.astype("datetime64[s]")).astype(np.int64)
    day = np.busday_offset(day, 0, roll="forward", holidays=HOLIDAYS)
    office = day.astype("datetime64[s]") + _seconds(OPENING + time_of_day * OFFICE_SECONDS // SECONDS_PER_DAY)
    return np.maximum(office, not_before)


def dossiers(rng: np.random.Generator, unit: Unit, profile: Profile, catalogue: UnitCatalogue,
             pool: ProcedurePool, period: Period, scale: float) -> Table:
    n = max(5, round(profile.monthly_dossiers * scale * float(np.clip(rng.normal(1.0, 0.075), 0.85, 1.15))))
    snapshot = _snapshot(period)

    pick = rng.choice(len(catalogue.index), n, p=catalogue.weight)
    procedure = catalogue.index[pick]
    capable = catalogue.service_level[pick] != "none"
    capable_share = float(catalogue.weight[catalogue.service_level != "none"].sum())
    online = capable & (rng.random(n) < min(1.0, profile.online_share / max(capable_share, 1e-9)))
    postal = ~online & (rng.random(n) < 0.03)
    channel = np.where(online, "online", np.where(postal, "postal", "direct")).astype(object)

    received = _received_at(rng, period, online)
    order = np.argsort(received, kind="stable")
    received, procedure, channel, online = received[order], procedure[order], channel[order], online[order]
    due = _add_working_days(received, pool.processing_days[procedure])

    supplements = rng.choice([0, 1, 2], n, p=[0.9, 0.08, 0.02])
    # More than one supplement request counts the dossier overdue (spec 2.1), so such
    # dossiers are the late ones here too.
    late = (rng.random(n) > profile.on_time) | (supplements == 2)
    outcome = rng.random(n)
    refused = outcome < 0.01
    withdrawn = (outcome >= 0.01) & (outcome < 0.015)
    allowed = (due - received).astype(np.int64)
    on_time_end = received + _seconds(allowed * rng.beta(1.1, 2.8, n))
    late_end = due + _seconds(3_600 + rng.exponential(2.5, n) * SECONDS_PER_DAY)
    end = np.where(late & ~refused & ~withdrawn, late_end, on_time_end)
    end = np.where(refused, received + _seconds(allowed * rng.random(n) * 0.5), end)
    end = np.where(withdrawn, received + _seconds(rng.uniform(0.1, 2.0, n) * SECONDS_PER_DAY), end)
    end = _office_hours(end, received + np.timedelta64(900, "s"))
    finished = end <= snapshot
    completed = np.where(finished, end, np.datetime64("NaT", "s"))
    handed = _office_hours(end + _seconds(rng.exponential(0.6, n) * SECONDS_PER_DAY),
                           end + np.timedelta64(300, "s"))
    returned = finished & ~refused & ~withdrawn & (handed <= snapshot) & (rng.random(n) < 0.93)
    result_returned = np.where(returned, handed, np.datetime64("NaT", "s"))
    status = np.select(
        [~finished, refused, withdrawn, returned],
        ["in_progress", "refused", "withdrawn", "returned"],
        "completed",
    ).astype(object)

    resolved = finished & ~refused & ~withdrawn
    has_e_result = resolved & (rng.random(n) < profile.e_result)
    # Digitised dossiers are mostly the ones that also got an e-result (SO_HOA needs both).
    digitised_rate = np.where(has_e_result, min(1.0, profile.digitised * 1.1), profile.digitised * 0.7)
    digitised = rng.random(n) < digitised_rate
    fee = pool.fee[procedure].copy()
    fee = np.where(pool.is_certified_copy[procedure], 2_000 * rng.integers(1, 11, n), fee)
    fee = np.where(rng.random(n) < 0.08, 0, fee)  # exemptions: poor households, people with merit

    day_of_receipt = pc.strftime(pa.array(received), format="%y%m%d")
    day_number = received.astype("datetime64[D]")
    _, first, day_group = np.unique(day_number, return_index=True, return_inverse=True)
    sequence = np.arange(n) - first[day_group] + 1
    dossier_id = _join(f"H{unit.province_code}.{unit.code}-", day_of_receipt, "-", _padded(sequence, 4))

    home = rng.random(n) < 0.8
    birth_province = np.where(home, int(unit.province_code), rng.integers(1, 97, n))
    birth_year = rng.integers(1945, 2008, n)
    gender_century = np.where(birth_year >= 2000, 2, 0) + rng.integers(0, 2, n)
    citizen = (birth_province * 1_000_000_000 + gender_century * 100_000_000
               + (birth_year % 100) * 1_000_000 + rng.integers(0, 1_000_000, n))

    return {
        "dossier_id": dossier_id,
        "procedure_code": pool.code[procedure].astype(object),
        "received_at": received,
        "channel": channel,
        "due_at": due,
        "completed_at": completed,
        "result_returned_at": result_returned,
        "status": status,
        "supplement_count": supplements.astype(np.int64),
        "synced_to_national_portal": rng.random(n) < profile.sync,
        "has_e_result": has_e_result,
        "digitised": digitised,
        "reused_data": rng.random(n) < profile.reused,
        "citizen_db_data": rng.random(n) < profile.citizen_db,
        "personal_storage_linked": rng.random(n) < profile.personal_storage,
        "fee_amount": fee.astype(np.int64),
        "applicant_ref": _text(_padded(citizen, 12)),
    }


def payments(rng: np.random.Generator, unit: Unit, profile: Profile, ho_so: Table, period: Period) -> Table:
    snapshot = _snapshot(period)
    payable = (ho_so["fee_amount"] > 0) & (ho_so["status"] != "withdrawn")
    paying = np.flatnonzero(payable & (rng.random(len(payable)) < profile.payment_coverage))
    m = len(paying)
    online_channel = ho_so["channel"][paying] == "online"
    online_rate = np.where(online_channel, profile.payment_online, profile.payment_online * 0.35)
    pays_online = rng.random(m) < online_rate
    method = np.where(pays_online, "online", np.where(rng.random(m) < 0.7, "cash", "transfer")).astype(object)
    delay = np.where(online_channel, rng.exponential(1_200, m), rng.uniform(60, 1_200, m))
    paid_at = ho_so["received_at"][paying] + _seconds(delay)
    status = rng.choice(["success", "failed", "pending", "refunded"], m, p=[0.95, 0.03, 0.015, 0.005])
    # Most failed online payments are retried and go through a few minutes later.
    retry = np.flatnonzero((status == "failed") & (rng.random(m) < 0.7))
    dossier = np.concatenate([paying, paying[retry]])
    method = np.concatenate([method, method[retry]])
    paid_at = np.concatenate([paid_at, paid_at[retry] + _seconds(rng.uniform(120, 900, len(retry)))])
    status = np.concatenate([status, np.full(len(retry), "success")]).astype(object)
    paid_at = np.minimum(paid_at, snapshot)
    order = np.argsort(paid_at, kind="stable")
    dossier, method, paid_at, status = dossier[order], method[order], paid_at[order], status[order]
    yymm = period.label[2:4] + period.label[5:7]
    return {
        "payment_id": _join(f"TT{unit.code}{yymm}", _padded(np.arange(1, len(dossier) + 1), 5)),
        "dossier_id": ho_so["dossier_id"][dossier],
        "amount": ho_so["fee_amount"][dossier].astype(np.int64),
        "method": method,
        "paid_at": paid_at,
        "status": status,
    }


def feedback(rng: np.random.Generator, unit: Unit, profile: Profile, ho_so: Table, period: Period) -> Table:
    snapshot = _snapshot(period)
    busy = float(np.clip(profile.monthly_dossiers / 900, 0.3, 2.0))
    k = int(min(5, rng.poisson(profile.feedback_rate * busy)))
    days, weekday = _period_days(period)
    workdays = days[weekday < 5]
    received = (rng.choice(workdays, k).astype("datetime64[s]")
                + _seconds(rng.uniform(27_000, 61_200, k)))
    linked = rng.random(k) < 0.55
    dossier_index = rng.integers(0, len(ho_so["dossier_id"]), k)
    dossier_id = np.where(linked, ho_so["dossier_id"][dossier_index], None).astype(object)
    # Feedback about a dossier comes after the dossier was received.
    received = np.where(linked, np.maximum(received, ho_so["received_at"][dossier_index] + _seconds(
        rng.uniform(3_600, 5 * SECONDS_PER_DAY, k))), received)
    received = np.minimum(received, snapshot - np.timedelta64(3_600, "s"))
    order = np.argsort(received, kind="stable")
    received, dossier_id = received[order], dossier_id[order]
    due = _add_working_days(received, np.full(k, 15))
    refused = rng.random(k) < 0.05
    on_time = rng.random(k) < profile.feedback_on_time
    allowed = (due - received).astype(np.int64)
    end = np.where(on_time, received + _seconds(allowed * rng.beta(1.5, 2.5, k)),
                   due + _seconds(rng.exponential(3.0, k) * SECONDS_PER_DAY + 3_600))
    end = np.where(refused, received + _seconds(rng.uniform(0.2, 2.0, k) * SECONDS_PER_DAY), end)
    end = _office_hours(end, received + np.timedelta64(1_800, "s"))
    handled = end <= snapshot
    status = np.select([~handled, refused], ["in_progress", "refused"], "handled").astype(object)
    draw = rng.random(k)
    rating = np.where(draw < profile.unsatisfied, "unsatisfied", np.where(draw < 0.7, "satisfied", "none"))
    rating = np.where(handled, rating, "none").astype(object)
    yymm = period.label[2:4] + period.label[5:7]
    return {
        "feedback_id": _join(f"PAKN-{unit.code}-{yymm}-", _padded(np.arange(1, k + 1), 3)),
        "dossier_id": dossier_id,
        "received_at": received,
        "due_at": due,
        "handled_at": np.where(handled, end, np.datetime64("NaT", "s")),
        "status": status,
        "rating": rating,
        "repeated": rng.random(k) < 0.1,
    }


def procedures(rng: np.random.Generator, profile: Profile, catalogue: UnitCatalogue,
               pool: ProcedurePool, stable: np.random.Generator) -> Table:
    n = len(catalogue.index)
    index = catalogue.index
    return {
        "procedure_code": pool.code[index].astype(object),
        "name": pool.name[index],
        "service_level": catalogue.service_level,
        "has_fee": pool.fee[index] > 0,
        "returns_paper_result": pool.returns_paper_result[index],
        "published_on_time": rng.random(n) < profile.published_on_time,
        "publicised_on_time": rng.random(n) < profile.publicised_on_time,
        "publication_complete": stable.random(n) < profile.publication_complete,
        "e_certified_copy": catalogue.e_certified_copy,
    }


def figures(rng: np.random.Generator, tables: dict[str, Table], period: Period) -> Figures:
    ho_so, thanh_toan = tables["ho_so"], tables["thanh_toan"]
    pakn, danh_muc = tables["pakn"], tables["danh_muc_tthc"]
    snapshot = _snapshot(period)
    received = len(ho_so["dossier_id"])
    online = int((ho_so["channel"] == "online").sum())
    finished = ~np.isnat(ho_so["completed_at"])
    on_time = int((finished & (ho_so["completed_at"] <= ho_so["due_at"])).sum())
    in_progress_on_time = int((~finished & (ho_so["due_at"] >= snapshot)).sum())
    in_progress = int((~finished).sum())
    carried = int(rng.binomial(max(received, 1), 0.015))
    system_ministry = int(rng.binomial(received, 0.04))
    resolved = np.isin(ho_so["status"], ["completed", "returned"])
    fee_dossiers = ho_so["fee_amount"] > 0
    paid_online = np.isin(
        ho_so["dossier_id"],
        thanh_toan["dossier_id"][(thanh_toan["method"] == "online") & (thanh_toan["status"] == "success")],
    )
    return Figures(
        carried_over=carried,
        received=received,
        online=online,
        direct=int((ho_so["channel"] == "direct").sum()),
        postal=int((ho_so["channel"] == "postal").sum()),
        total=carried + received,
        on_time=on_time,
        in_progress_on_time=in_progress_on_time,
        resolved_late=received - in_progress - on_time,
        in_progress_overdue=in_progress - in_progress_on_time,
        system_city=received - system_ministry,
        system_ministry=system_ministry,
        procedures_full=int((danh_muc["service_level"] == "full").sum()),
        procedures_partial=int((danh_muc["service_level"] == "partial").sum()),
        feedback=len(pakn["feedback_id"]),
        feedback_handled=int((pakn["status"] != "in_progress").sum()),
        e_result_rate=_rate(int(ho_so["has_e_result"].sum()), int(resolved.sum())),
        digitised_rate=_rate(int(ho_so["digitised"].sum()), received),
        reused_rate=_rate(int(ho_so["reused_data"].sum()), received),
        online_payment_rate=_rate(int((paid_online & fee_dossiers).sum()), int(fee_dossiers.sum())),
    )


def _rate(numerator: int, denominator: int) -> float:
    return round(100.0 * numerator / denominator, 2) if denominator else 100.0
