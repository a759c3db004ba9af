"""One unit's rows for one period: dossiers, payments, feedback and the procedure catalogue.

Everything is drawn with numpy for the whole unit at once. Dates follow one snapshot: the
unit exports at the end of the period, so a dossier finished after that moment is still
in progress in the file, and statuses always agree with the dates. Working days are the
warehouse's (chiso.workdays). Small, unit-dependent shares of the rows take the cases the
scoring rules treat apart (2.1, 3.3, 3.6, 5.2: supplements, refusals and results without a
completion time, dossiers without an appointment date, blank or unexpected fees, feedback
steps on and just past their limits), so that each clause moves the demo's scores;
tests/unit/test_generate_branches.py checks that every one occurs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chiso import workdays
from chiso.generate.catalogue import ProcedurePool, UnitCatalogue
from chiso.generate.units import Profile, Unit
from chiso.periods import Period

# contract column → values: datetime64[s] with NaT for a blank, bool, int64, float64 for a
# whole-number column that may be blank (NaN; the writers print whole numbers), object
Table = dict[str, np.ndarray]

DAY = np.timedelta64(1, "D")
OPENING, OFFICE_SECONDS = 27_000, 36_000  # 07:30, ten hours
SECONDS_PER_DAY = 86_400
# Hourly shape of online submissions: citizens file in the evening too, rarely at night.
ONLINE_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 10, 8, 6, 7, 9, 10, 9, 7, 6, 7, 8, 7, 5, 2], float)
FREE_PROCEDURE_CHARGES = np.array([5_000, 10_000, 20_000, 30_000], float)


@functools.cache
def _calendar() -> tuple[np.datetime64, np.ndarray, np.ndarray, np.ndarray]:
    """Vietnam's working days as the warehouse counts them (chiso.workdays: public holidays,
    Tết, the Saturdays worked in exchange): the first day, per day whether it is a working
    day and its running working-day number, and the working days in order."""
    rows = [line.split(",", 3) for line in workdays.working_days_csv().getvalue().splitlines()]
    first = np.datetime64(rows[0][0], "D")
    working = np.array([r[1] == "true" for r in rows])
    number = np.array([int(r[2]) for r in rows], dtype=np.int64)
    days = first + np.arange(len(rows))
    return first, working, number, days[working]


def working_day_after(days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """The n-th working day after each day (counted from the next day, as limits are);
    n = 0 is the day itself when it is a working day, else the next working day."""
    first, working, number, working_days = _calendar()
    index = (days.astype("datetime64[D]") - first).astype(np.int64)
    return working_days[np.where(np.asarray(n) > 0, number[index] + n - 1, number[index] - working[index])]


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


def carried_over(previous_month: Table, now: Table) -> Table:
    """The previous month's dossiers still open at its end, as they stand now: they belong in
    this month's file (received or processed in the period). `previous_month` and `now` are
    the same draw seen at the two moments, row for row."""
    still_open = previous_month["status"] == "in_progress"
    return {name: values[still_open] for name, values in now.items()}


def appended(table: Table, more: Table) -> Table:
    return {name: np.concatenate([values, more[name]]) for name, values in table.items()}


def snapshot_of(period: Period) -> np.datetime64:
    """The moment the unit exports its data: the last second of the period."""
    return np.datetime64(period.end, "D").astype("datetime64[s]") + np.timedelta64(SECONDS_PER_DAY - 1, "s")


def _period_days(period: Period) -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(np.datetime64(period.start, "D"), np.datetime64(period.end, "D") + DAY)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    first, working, _, _ = _calendar()
    working = working[(days - first).astype(np.int64)]
    # Holidays count as Sundays (no desk service, fewer online filings); a Saturday worked in
    # exchange for a day off counts as a weekday.
    weekday = np.where(working, np.where(weekday >= 5, 0, weekday), np.where(weekday < 5, 6, weekday))
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
    due_day = working_day_after(day, working_days)
    time_of_day = np.clip((moment - day.astype("datetime64[s]")).astype(np.int64), 28_800, 61_200)
    return due_day.astype("datetime64[s]") + time_of_day.astype("timedelta64[s]")


def _seconds(rng_values: np.ndarray) -> np.ndarray:
    return rng_values.astype(np.int64).astype("timedelta64[s]")


def _office_hours(moment: np.ndarray, not_before: np.ndarray) -> np.ndarray:
    """Staff act on working days between 07:30 and 17:30: squeeze the time of day into that
    window (keeping the order of events within a day) and move weekends to the next working day."""
    day = moment.astype("datetime64[D]")
    time_of_day = (moment - day.astype("datetime64[s]")).astype(np.int64)
    day = working_day_after(day, 0)
    office = day.astype("datetime64[s]") + _seconds(OPENING + time_of_day * OFFICE_SECONDS // SECONDS_PER_DAY)
    return np.maximum(office, not_before)


def dossiers(rng: np.random.Generator, unit: Unit, profile: Profile, catalogue: UnitCatalogue,
             pool: ProcedurePool, period: Period, scale: float, as_of: np.datetime64 | None = None) -> Table:
    """The period's dossiers as the unit exports them at the period's end, or `as_of` a later
    moment (the same dossiers, the same draws: only what has finished by then differs)."""
    n = max(5, round(profile.monthly_dossiers * scale * float(np.clip(rng.normal(1.0, 0.075), 0.85, 1.15))))
    snapshot = snapshot_of(period) if as_of is None else as_of
    not_a_time = np.datetime64("NaT", "s")

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
    limit = pool.processing_days[procedure]
    due = _add_working_days(received, limit)

    # A request for a supplement stops the clock: the deadline moves by the working days the
    # dossier waited for the applicant (spec 2.1). More than one request counts the dossier
    # overdue whatever the dates, and is drawn like the others: most still finish in time.
    draw = rng.random(n)
    supplements = np.select([draw < profile.supplement_rate * 0.8, draw < profile.supplement_rate],
                            [1, rng.integers(2, 4, n)], 0)
    waited = rng.integers(1, 6, n) + (supplements - 1) * rng.integers(1, 4, n)
    supplement_days = np.where(supplements > 0, waited, 0)
    moved_due = _add_working_days(due, supplement_days)
    late = rng.random(n) > profile.on_time
    outcome = rng.random(n)
    refused = outcome < 0.01
    withdrawn = (outcome >= 0.01) & (outcome < 0.015)
    allowed = (moved_due - received).astype(np.int64)
    # Supplemented dossiers use more of their (moved) time: a share finish after the
    # appointment written on the receipt but before the moved deadline.
    share = np.where(supplements > 0, rng.beta(2.5, 1.3, n), rng.beta(1.1, 2.8, n))
    on_time_end = received + _seconds(allowed * share)
    late_end = moved_due + _seconds(3_600 + rng.exponential(2.5, n) * SECONDS_PER_DAY)
    end = np.where(late & ~refused & ~withdrawn, late_end, on_time_end)

    # Procedures without an appointment date: the desk works to the legal limit (plus the
    # supplement wait), counted in working days after reception, often finishing on its last day.
    no_date = pool.no_appointment[procedure] | (rng.random(n) < profile.missing_due)
    budget = limit + supplement_days
    in_time = np.where(rng.random(n) < 0.3, budget, rng.integers(0, budget + 1))
    overrun = budget + rng.geometric(0.4, n)
    end_day = working_day_after(received.astype("datetime64[D]"), np.where(late, overrun, in_time))
    undated_end = np.maximum(end_day.astype("datetime64[s]") + _seconds(rng.uniform(27_000, 61_200, n)),
                             received + np.timedelta64(900, "s"))
    end = np.where(no_date & ~refused & ~withdrawn, undated_end, end)

    end = np.where(refused, received + _seconds(allowed * rng.random(n) * 0.5), end)
    end = np.where(withdrawn, received + _seconds(rng.uniform(0.1, 2.0, n) * SECONDS_PER_DAY), end)
    end = _office_hours(end, received + np.timedelta64(900, "s"))
    finished = end <= snapshot
    # Some systems record a refusal without a completion date (2.1 counts it late).
    undated_refusal = refused & (rng.random(n) < profile.refused_undated)
    completed = np.where(finished & ~undated_refusal, end, not_a_time)
    handed = _office_hours(end + _seconds(rng.exponential(0.6, n) * SECONDS_PER_DAY),
                           end + np.timedelta64(300, "s"))
    returned = finished & ~refused & ~withdrawn & (handed <= snapshot) & (rng.random(n) < 0.93)
    result_returned = np.where(returned, handed, not_a_time)
    # ... and some only the moment the result was handed over (2.1's end time then).
    completed = np.where(returned & (rng.random(n) < profile.returned_only), not_a_time, completed)
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
    fee_bearing = pool.fee[procedure] > 0
    fee = pool.fee[procedure].astype(float)
    fee = np.where(pool.is_certified_copy[procedure], 2_000 * rng.integers(1, 11, n), fee)
    fee = np.where(rng.random(n) < 0.08, 0, fee)  # exemptions: poor households, people with merit
    # Data-entry habits 3.6 has to survive: a fee-bearing dossier with the fee left blank, and
    # a charge (copies, delivery) typed on a dossier of a procedure without a fee.
    fee = np.where(fee_bearing & (rng.random(n) < profile.fee_blank), np.nan, fee)
    fee = np.where(~fee_bearing & (rng.random(n) < profile.fee_on_free),
                   rng.choice(FREE_PROCEDURE_CHARGES, n), fee)

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

    if writes_due_date_only(unit):
        # the receipt's appointment as a date alone, the way some one-stop systems print it:
        # the whole of that day (2.1's deadline, deadline_at)
        due = due.astype("datetime64[D]").astype("datetime64[s]")
    return {
        "dossier_id": dossier_id,
        "procedure_code": pool.code[procedure].astype(object),
        "received_at": received,
        "channel": channel,
        "due_at": np.where(no_date, not_a_time, due),
        "completed_at": completed,
        "result_returned_at": result_returned,
        "status": status,
        "supplement_count": supplements.astype(np.int64),
        "supplement_days": supplement_days.astype(np.int64),
        "synced_to_national_portal": rng.random(n) < profile.sync,
        "has_e_result": has_e_result,
        "digitised": digitised,
        "reused_data": rng.random(n) < profile.reused,
        "citizen_db_data": rng.random(n) < profile.citizen_db,
        "personal_storage_linked": rng.random(n) < profile.personal_storage,
        "fee_amount": fee,
        "applicant_ref": _text(_padded(citizen, 12)),
    }


def payments(rng: np.random.Generator, unit: Unit, profile: Profile, ho_so: Table, period: Period) -> Table:
    snapshot = snapshot_of(period)
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
    snapshot = snapshot_of(period)
    not_a_time = np.datetime64("NaT", "s")
    busy = float(np.clip(profile.monthly_dossiers / 900, 0.3, 2.0))
    k = int(min(15, rng.poisson(profile.feedback_rate * busy)))
    days, weekday = _period_days(period)
    # The portal takes feedback every day; staff answer on working days.
    weight = np.where(weekday < 5, 1.0, 0.35)
    received = (rng.choice(days, k, p=weight / weight.sum()).astype("datetime64[s]")
                + _seconds(rng.uniform(25_000, 75_000, k)))
    linked = rng.random(k) < 0.55
    dossier_index = rng.integers(0, len(ho_so["dossier_id"]), k)
    dossier_id = np.where(linked, ho_so["dossier_id"][dossier_index], None).astype(object)
    # Feedback about a dossier comes after the dossier was received.
    received = np.where(linked, np.maximum(received, ho_so["received_at"][dossier_index] + _seconds(
        rng.uniform(3_600, 5 * SECONDS_PER_DAY, k))), received)
    received = np.minimum(received, snapshot - np.timedelta64(3_600, "s"))
    order = np.argsort(received, kind="stable")
    received, dossier_id = received[order], dossier_id[order]
    received_day = received.astype("datetime64[D]")
    due = _add_working_days(received, np.full(k, 15))

    # 5.2's limits are working days counted after the day of reception: a refusal within 2,
    # an answer within 15, a request for more information within 5, publication within 2 of
    # the answer. Each step lands on a working day; staff often act on the last allowed
    # day, and a late one mostly on the day after.
    refused = rng.random(k) < 0.08
    slack = 1.0 - profile.feedback_on_time
    on_time = rng.random(k) >= slack
    answer = np.where(on_time, np.where(rng.random(k) < 0.2, 15, rng.integers(1, 15, k)),
                      np.where(rng.random(k) < 0.4, 16, rng.integers(17, 26, k)))
    refusal = np.where(rng.random(k) >= slack + 0.15, rng.integers(0, 3, k), rng.integers(3, 6, k))
    step = np.where(refused, refusal, answer)
    end = _at_office(working_day_after(received_day, step), rng, received + np.timedelta64(1_800, "s"))
    handled = end <= snapshot
    status = np.select([~handled, refused], ["in_progress", "refused"], "handled").astype(object)

    asked_step = np.where(rng.random(k) >= slack + 0.1, rng.integers(1, 6, k), rng.integers(6, 9, k))
    asks = ~refused & (rng.random(k) < profile.feedback_supplement) & (asked_step < step)
    asked = _at_office(working_day_after(received_day, asked_step), rng,
                       received + np.timedelta64(1_800, "s"))
    asks &= asked <= snapshot
    published_step = np.where(rng.random(k) >= slack + 0.1, rng.integers(0, 3, k), rng.integers(3, 6, k))
    published = _at_office(working_day_after(end.astype("datetime64[D]"), published_step), rng,
                           end + np.timedelta64(1_800, "s"))
    publishes = handled & (status == "handled") & (rng.random(k) < profile.feedback_published)
    publishes &= published <= snapshot

    draw = rng.random(k)
    rating = np.where(draw < profile.unsatisfied, "unsatisfied", np.where(draw < 0.7, "satisfied", "none"))
    rating = np.where(handled, rating, "none").astype(object)
    yymm = period.label[2:4] + period.label[5:7]
    return {
        "feedback_id": _join(f"PAKN-{unit.code}-{yymm}-", _padded(np.arange(1, k + 1), 3)),
        "dossier_id": dossier_id,
        "received_at": received,
        "due_at": due,
        "handled_at": np.where(handled, end, not_a_time),
        "supplement_requested_at": np.where(asks, asked, not_a_time),
        "published_at": np.where(publishes, published, not_a_time),
        "status": status,
        "rating": rating,
        "repeated": rng.random(k) < 0.1,
    }


def _at_office(day: np.ndarray, rng: np.random.Generator, not_before: np.ndarray) -> np.ndarray:
    """A moment in office hours (08:00-17:00) of each day, not before `not_before`."""
    moment = day.astype("datetime64[s]") + _seconds(rng.uniform(28_800, 61_200, len(day)))
    return np.maximum(moment, not_before)


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
        # a few rows without the legal time limit: 2.1 then counts an undated dossier late
        "time_limit_days": np.where(stable.random(n) < profile.limit_missing, np.nan,
                                    pool.processing_days[index].astype(float)),
    }


def writes_due_date_only(unit: Unit) -> bool:
    """One unit in five writes appointment dates without a time (a habit of the unit, not a
    draw: the other draws stay as they were)."""
    return int(unit.code) % 5 == 0


def deadline_at(ho_so: Table, danh_muc: Table) -> np.ndarray:
    """2.1's deadline as the warehouse computes it (int_dossiers_classified): the appointment
    moved on by the supplement's working days (an appointment without a time: the end of its
    day), else the start of the first working day past reception + the catalogue's time limit
    + supplement days; NaT when neither is known."""
    due, waited = ho_so["due_at"], ho_so["supplement_days"]
    dated = ~np.isnat(due)
    moved = _add_working_days(np.where(dated, due, ho_so["received_at"]), waited)
    moved = np.where(waited > 0, moved, due)
    date_only = dated & (due == due.astype("datetime64[D]").astype("datetime64[s]"))
    end_of_day = moved.astype("datetime64[D]").astype("datetime64[s]") + np.timedelta64(86_399, "s")
    moved = np.where(date_only, end_of_day, moved)
    limits = dict(zip(danh_muc["procedure_code"], danh_muc["time_limit_days"], strict=True))
    limit = np.array([limits.get(code, np.nan) for code in ho_so["procedure_code"]], dtype=float)
    known = ~np.isnan(limit)
    days = np.where(known, limit, 0).astype(np.int64) + waited + 1
    past_limit = working_day_after(ho_so["received_at"].astype("datetime64[D]"), days).astype("datetime64[s]")
    not_a_time = np.datetime64("NaT", "s")
    return np.where(dated, moved, np.where(known, past_limit, not_a_time))


def figures(rng: np.random.Generator, tables: dict[str, Table], period: Period) -> Figures:
    ho_so, thanh_toan = tables["ho_so"], tables["thanh_toan"]
    pakn, danh_muc = tables["pakn"], tables["danh_muc_tthc"]
    snapshot = snapshot_of(period)
    # rows received before the period are dossiers carried over from the month before
    fresh = ho_so["received_at"] >= np.datetime64(period.start, "D").astype("datetime64[s]")
    received = int(fresh.sum())
    online = int((fresh & (ho_so["channel"] == "online")).sum())
    # As the warehouse counts a commune report's figures (int_figures_computed): resolved
    # means completed in the period, on time when completed by 2.1's deadline (late without
    # one); a dossier without a completion time is still in progress.
    completed, deadline = ho_so["completed_at"], deadline_at(ho_so, danh_muc)
    finished = ~np.isnat(completed)
    on_time = int((finished & (completed <= deadline)).sum())
    resolved_late = int(finished.sum()) - on_time
    in_progress = int((~finished).sum())
    in_progress_overdue = int((~finished & ~(deadline >= snapshot)).sum())
    carried = int((~fresh).sum())
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
        direct=int((fresh & (ho_so["channel"] == "direct")).sum()),
        postal=int((fresh & (ho_so["channel"] == "postal")).sum()),
        total=carried + received,
        on_time=on_time,
        in_progress_on_time=in_progress - in_progress_overdue,
        resolved_late=resolved_late,
        in_progress_overdue=in_progress_overdue,
        system_city=received - system_ministry,
        system_ministry=system_ministry,
        procedures_full=int((danh_muc["service_level"] == "full").sum()),
        procedures_partial=int((danh_muc["service_level"] == "partial").sum()),
        feedback=len(pakn["feedback_id"]),
        feedback_handled=int((pakn["status"] != "in_progress").sum()),
        e_result_rate=_rate(int(ho_so["has_e_result"].sum()), int(resolved.sum())),
        digitised_rate=_rate(int((fresh & ho_so["digitised"]).sum()), received),
        reused_rate=_rate(int((fresh & ho_so["reused_data"]).sum()), received),
        online_payment_rate=_rate(int((paid_online & fee_dossiers).sum()), int(fee_dossiers.sum())),
    )


def _rate(numerator: int, denominator: int) -> float:
    return round(100.0 * numerator / denominator, 2) if denominator else 100.0
