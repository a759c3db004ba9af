"""Published is published: publications, the restatement ledger and the auditor's evidence pack.

`publish` freezes a period's unit, group and criterion scores, ranks and ratings (as the
transformer, from the marts the build just made) with the rule versions, the code and tool
versions and the batches and file sha256s that fed them. `record_restatements` compares
the latest publication of each period with the marts as they are now and writes a row per
changed figure, with its cause, once. `write_evidence` packs what an auditor needs to
re-check a publication without the warehouse; `verify_evidence` checks every file's sha256
and recomputes the scores from the pack's own inputs through the same pipeline
(`chiso run` on a throwaway embedded warehouse).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg2.extras

from chiso import __version__, config, warehouse

log = logging.getLogger(__name__)

PERIOD_LABEL = re.compile(r"[0-9]{4}(-[0-9]{2}|-Q[1-4])?")


def months_of(column: str, period: str = "%(period)s") -> str:
    """SQL: the month-label `column` is one of the months the period label `period` (a
    parameter or a column) spans; a month spans itself."""
    month = "'^[0-9]{4}-[0-9]{2}$'"
    return f"""({column} ~ {month} and case
        when {period} ~ {month} then {column} = {period}
        when {period} ~ '^[0-9]{{4}}-Q[1-4]$'
            then left({column}, 4) = left({period}, 4)
             and (cast(substr({column}, 6, 2) as integer) + 2) / 3 = cast(right({period}, 1) as integer)
        else left({column}, 4) = {period} end)"""


SCORE_FILES = ("published_unit_scores", "published_group_scores", "published_criterion_scores")


OTHERS_MOVED = "rank moved with other units' scores (its own figures did not change)"


class PublicationError(RuntimeError):
    pass


def code_version() -> str:
    """chiso's version and, in a git checkout, `git describe --always --dirty`."""
    described = ""
    try:
        described = subprocess.run(
            ["git", "-C", str(config.project_dir()), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return f"chiso {__version__}" + (f" ({described})" if described else "")


def tool_versions() -> dict[str, str]:
    from importlib.metadata import version

    from chiso.extract import EXTRACTOR_VERSION

    return {
        "dbt-core": version("dbt-core"),
        "great-expectations": version("great-expectations"),
        "extractor": EXTRACTOR_VERSION,
    }


def _check_period(period: str) -> str:
    if not PERIOD_LABEL.fullmatch(period or ""):
        raise PublicationError(f"period must be YYYY-MM, YYYY-Qn or YYYY, got {period!r}")
    return period


# --------------------------------------------------------------------------- publish


def publish(period: str, province: str | None = None, dsn: str | None = None, note: str | None = None) -> str:
    """Freeze the period's scores as they stand in the marts; return the publication id."""
    _check_period(period)
    dsn = dsn or warehouse.role_url("transformer")
    scope = {"period": period, "province": province}
    with warehouse.cursor(dsn) as cur:
        cur.execute(
            """select count(*), count(*) filter (where data_status = 'quarantined')
                       from marts.unit_ranking
                       where period = %(period)s
                         and (%(province)s::text is null or province_code = %(province)s)""",
            scope,
        )
        units, quarantined = cur.fetchone()
        if not units:
            raise PublicationError(
                f"nothing to publish: no unit of {period}"
                + (f" in province {province}" if province else "")
                + " in marts.unit_ranking"
            )
        cur.execute(
            """select coalesce(array_agg(distinct rule_version order by rule_version), '{}')
                       from marts.criterion_scores
                       where period = %(period)s
                         and (%(province)s::text is null or province_code = %(province)s)""",
            scope,
        )
        rule_versions = cur.fetchone()[0]
        cur.execute(
            f"""select case when bool_and(extract(day from b.period_start) = 1) then 'calendar'
                                    else '15th' end
                        from raw.batches b
                        where {months_of("b.period")}
                          and (%(province)s::text is null or b.province_code = %(province)s)""",
            scope,
        )
        cycle = cur.fetchone()[0] or "calendar"
        stamp = datetime.now(UTC)
        publication_id = f"{period}-{province or 'all'}-{stamp:%Y%m%dT%H%M%S%f}"
        cur.execute(
            """insert into audit.publications (publication_id, period, province_code, published_at,
                   rule_versions, code_version, tool_versions, cycle, note)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                publication_id,
                period,
                province,
                stamp,
                rule_versions,
                code_version(),
                json.dumps(tool_versions()),
                cycle,
                note,
            ),
        )
        params = {**scope, "id": publication_id}
        cur.execute(
            """insert into audit.published_unit_scores
                       select %(id)s, unit_code, unit_name, province_code, period, period_type, total_points,
                              rating, rank_in_province, units_in_province, data_status, batch_id
                       from marts.unit_ranking
                       where period = %(period)s
                         and (%(province)s::text is null or province_code = %(province)s)""",
            params,
        )
        cur.execute(
            """insert into audit.published_group_scores
                       select %(id)s, g.unit_code, g.group_code, g.points, g.max_points
                       from marts.group_scores g
                       join audit.published_unit_scores u
                         on u.publication_id = %(id)s and u.unit_code = g.unit_code
                       where g.period = %(period)s""",
            params,
        )
        cur.execute(
            """insert into audit.published_criterion_scores
                       select %(id)s, c.unit_code, c.criterion_code, c.group_code, c.numerator, c.denominator,
                              c.rate, c.points, c.max_points, c.rule_version
                       from marts.criterion_scores c
                       join audit.published_unit_scores u
                         on u.publication_id = %(id)s and u.unit_code = c.unit_code
                       where c.period = %(period)s""",
            params,
        )
        # The batches behind the scores: the month's current batch of each unit, or for a
        # quarter or year every month's (quarantined ones included: they are why a unit is
        # unranked, and an auditor re-checks that too).
        cur.execute(
            f"""insert into audit.publication_inputs
                        select %(id)s, b.batch_id, b.unit_code, b.period, b.verdict, f.source,
                               f.source_file, f.file_sha256
                        from marts.unit_ranking r
                        join audit.published_unit_scores u
                          on u.publication_id = %(id)s and u.unit_code = r.unit_code
                        join raw.batches b on b.batch_id = r.batch_id
                        join raw.files f on f.batch_id = b.batch_id
                        where r.period_type = 'month' and {months_of("r.period")}""",
            params,
        )
    kept = _keep_inputs(publication_id, dsn)
    log.info("published %s: %d units (%d quarantined), %d input files kept, rules %s",
             publication_id, units, quarantined, kept, ", ".join(rule_versions))
    return publication_id


def inputs_store() -> Path:
    """Published input files by sha256: a later resubmission replaces a unit's files in the
    submissions folder, and an evidence pack must still hold what was published."""
    return config.state_dir() / "published_inputs"


def _stored(sha: str) -> Path:
    return inputs_store() / sha[:2] / sha


def _keep_inputs(publication_id: str, dsn: str) -> int:
    """Copy the publication's input files into the store, checking each against the sha256
    landing recorded; a file missing or changed since is logged (the pack will say so)."""
    with warehouse.cursor(dsn, read_only=True) as cur:
        cur.execute("""select distinct i.source_file, i.file_sha256, r.submissions_root
                       from audit.publication_inputs i
                       join raw.batches b on b.batch_id = i.batch_id
                       left join audit.runs r on r.run_id = b.run_id
                       where i.publication_id = %s""", (publication_id,))
        inputs = cur.fetchall()
    kept = 0
    for source_file, sha, root in inputs:
        target = _stored(sha)
        if target.is_file():
            kept += 1
            continue
        source = Path(root or "") / source_file
        if root and source.is_file() and _sha256(source) == sha:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            kept += 1
        else:
            log.warning("%s: input %s is not under %s as landed: it cannot go in an evidence pack",
                        publication_id, source_file, root)
    return kept


# --------------------------------------------------------------------------- restatements

_DIFFS = """
with publication as (
    select distinct on (period, coalesce(province_code, '')) *
    from audit.publications
    where period = any(%(periods)s)
    order by period, coalesce(province_code, ''), published_at desc
),
now_units as (
    select r.*, p.publication_id
    from publication p
    join marts.unit_ranking r
      on r.period = p.period and (p.province_code is null or r.province_code = p.province_code)
),
units as (
    select coalesce(o.publication_id, n.publication_id) as publication_id,
           coalesce(o.unit_code, n.unit_code) as unit_code,
           o.total_points::text as old_total, n.total_points::text as new_total,
           o.rating as old_rating, n.rating as new_rating,
           o.rank_in_province as old_rank, n.rank_in_province as new_rank,
           o.data_status as old_status, n.data_status as new_status
    from (select u.* from audit.published_unit_scores u join publication p using (publication_id)) o
    full join now_units n on n.publication_id = o.publication_id and n.unit_code = o.unit_code
),
groups as (
    select o.publication_id, o.unit_code, 'group ' || o.group_code as measure,
           o.points::text as old_value, g.points::text as new_value
    from audit.published_group_scores o
    join publication p using (publication_id)
    left join marts.group_scores g
      on g.unit_code = o.unit_code and g.period = p.period and g.group_code = o.group_code
    where g.points is distinct from o.points
),
criteria as (
    select o.publication_id, o.unit_code, 'criterion ' || o.criterion_code as measure,
           round(o.points, 2) || ' (' || o.numerator || '/' || trim_scale(o.denominator) || ')' as old_value,
           round(c.points, 2) || ' (' || c.numerator || '/' || trim_scale(c.denominator) || ')' as new_value
    from audit.published_criterion_scores o
    join publication p using (publication_id)
    left join marts.criterion_scores c
      on c.unit_code = o.unit_code and c.period = p.period and c.criterion_code = o.criterion_code
    where round(c.points, 6) is distinct from round(o.points, 6)
       or c.numerator is distinct from o.numerator or c.denominator is distinct from o.denominator
)
select u.publication_id, u.unit_code, m.measure, m.old_value, m.new_value, u.old_rank, u.new_rank
from units u
cross join lateral (values
    ('total_points', u.old_total, u.new_total),
    ('rating', u.old_rating, u.new_rating),
    ('rank_in_province', u.old_rank::text, u.new_rank::text),
    ('data_status', u.old_status, u.new_status)
) as m (measure, old_value, new_value)
where m.old_value is distinct from m.new_value
union all
select d.publication_id, d.unit_code, d.measure, d.old_value, d.new_value, u.old_rank, u.new_rank
from (select * from groups union all select * from criteria) d
join units u using (publication_id, unit_code)
"""


def record_restatements(periods: list[str] | None = None, dsn: str | None = None) -> int:
    """Write a ledger row for every published figure that differs from the marts now (once);
    return how many were new. `periods`: the labels to check (default: every published one)."""
    dsn = dsn or warehouse.role_url("transformer")
    with warehouse.cursor(dsn) as cur:
        if periods is None:
            cur.execute("select coalesce(array_agg(distinct period), '{}') from audit.publications")
            periods = cur.fetchone()[0]
        if not periods:
            return 0
        cur.execute(_DIFFS, {"periods": list(periods)})
        diffs = cur.fetchall()
        if not diffs:
            return 0
        # a unit whose only change is its rank moved because of other units
        own = {(p, u) for p, u, measure, *_ in diffs if measure != "rank_in_province"}
        causes = _causes(cur, own, {p for p, *_ in diffs})
        # one statement for all the changes (a rule change can restate every unit)
        rows = [(publication_id, unit_code, measure, old, new, old_rank, new_rank,
                 causes.get((publication_id, unit_code), OTHERS_MOVED))
                for publication_id, unit_code, measure, old, new, old_rank, new_rank in diffs]
        inserted = len(psycopg2.extras.execute_values(
            cur,
            """insert into audit.restatements (publication_id, unit_code, period, measure, old_value,
                   new_value, old_rank, new_rank, cause)
               select d.publication_id, d.unit_code, p.period, d.measure, d.old_value, d.new_value,
                      d.old_rank::integer, d.new_rank::integer, d.cause
               from (values %s) as d (publication_id, unit_code, measure, old_value, new_value,
                                      old_rank, new_rank, cause)
               join audit.publications p using (publication_id)
               on conflict do nothing
               returning 1""",
            rows, fetch=True))
    if inserted:
        log.info("restatements: %d published figures changed since publication", inserted)
    return inserted


def _causes(cur, changed: set[tuple[str, str]], publications: set[str]) -> dict[tuple[str, str], str]:
    """Why each changed unit's figures moved: its inputs, the rules, or the code."""
    cur.execute(
        f"""select p.publication_id, i.unit_code, i.period, i.batch_id, coalesce(n.batch_id, ''),
                   coalesce(to_char(b.delivered_at, 'YYYY-MM-DD HH24:MI'), '')
            from audit.publications p
            join (select distinct publication_id, unit_code, period, batch_id from audit.publication_inputs) i
              using (publication_id)
            left join marts.unit_ranking n
              on n.unit_code = i.unit_code and n.period = i.period and n.period_type = 'month'
            left join raw.batches b on b.batch_id = n.batch_id
            where p.publication_id = any(%(ids)s)
            union all
            select p.publication_id, n.unit_code, n.period, '', n.batch_id,
                   coalesce(to_char(b.delivered_at, 'YYYY-MM-DD HH24:MI'), '')
            from audit.publications p
            join marts.unit_ranking n
              on n.period_type = 'month' and {months_of("n.period", "p.period")}
             and (p.province_code is null or n.province_code = p.province_code)
            left join raw.batches b on b.batch_id = n.batch_id
            where p.publication_id = any(%(ids)s)
              and not exists (select 1 from audit.publication_inputs i
                              where i.publication_id = p.publication_id and i.unit_code = n.unit_code
                                and i.period = n.period)""",
        {"ids": sorted(publications)},
    )
    swaps: dict[tuple[str, str], list[str]] = {}
    for publication_id, unit, month, old, new, delivered in cur.fetchall():
        if old != new:
            text = (
                f"{month}: batch {new} (delivered {delivered}) replaced {old}"
                if old and new
                else f"{month}: batch {new} delivered after publication"
                if new
                else f"{month}: batch {old} no longer current"
            )
            swaps.setdefault((publication_id, unit), []).append(text)
    cur.execute(
        """select o.publication_id, o.unit_code,
                  string_agg(distinct o.rule_version || ' → ' || c.rule_version, ', ')
           from audit.published_criterion_scores o
           join audit.publications p using (publication_id)
           join marts.criterion_scores c
             on c.unit_code = o.unit_code and c.period = p.period and c.criterion_code = o.criterion_code
           where o.publication_id = any(%(ids)s) and c.rule_version <> o.rule_version
           group by 1, 2""",
        {"ids": sorted(publications)},
    )
    rules = {(p, u): text for p, u, text in cur.fetchall()}
    cur.execute(
        "select publication_id, code_version from audit.publications where publication_id = any(%s)",
        (sorted(publications),),
    )
    code_then = dict(cur.fetchall())
    code_now = code_version()
    causes = {}
    for key in changed:
        if key in swaps:
            causes[key] = "resubmission: " + "; ".join(sorted(swaps[key]))
        elif key in rules:
            causes[key] = f"rule version {rules[key]}"
        elif code_then.get(key[0]) != code_now:
            causes[key] = f"code version {code_then.get(key[0])} → {code_now}"
        else:
            causes[key] = "changed with the same inputs, rules and code: investigate"
    return causes


def restatements(period: str, dsn: str | None = None) -> str:
    """The ledger of a period as CSV (after recording any change not yet in it)."""
    _check_period(period)
    record_restatements([period], warehouse.role_url("transformer", dsn) if dsn else None)
    return warehouse.query_csv(
        """select r.detected_at, r.publication_id, p.published_at, r.unit_code, r.measure,
                  r.old_value, r.new_value, r.old_rank, r.new_rank, r.cause
           from audit.restatements r join audit.publications p using (publication_id)
           where r.period = %s order by r.detected_at, r.unit_code, r.measure""",
        warehouse.role_url("reader", dsn) if dsn else warehouse.role_url("reader"),
        params=(period,),
        read_only=True,
    )


# --------------------------------------------------------------------------- evidence


def _sha256(path: Path) -> str:
    from chiso.landing import sha256_of  # the digest landing recorded, computed the same way

    return sha256_of(path)


def _latest_publication(cur, period: str, province: str | None) -> str:
    cur.execute(
        """select publication_id from audit.publications
                   where period = %s and province_code is not distinct from %s
                   order by published_at desc limit 1""",
        (period, province),
    )
    row = cur.fetchone()
    if row is None:
        raise PublicationError(
            f"{period}"
            + (f" for province {province}" if province else "")
            + " has not been published: chiso publish --period "
            + period
        )
    return row[0]


def write_evidence(
    period: str, province: str | None, out: Path, publication_id: str | None = None, dsn: str | None = None
) -> Path:
    """Write the evidence pack of a publication (a folder and its zip); return the zip."""
    if publication_id is None:
        _check_period(period)
    dsn = dsn or warehouse.role_url("reader")
    with warehouse.cursor(dsn, read_only=True) as cur:
        publication_id = publication_id or _latest_publication(cur, period, province)
        cur.execute(
            """select i.source_file, i.file_sha256, r.submissions_root
                       from audit.publication_inputs i
                       join raw.batches b on b.batch_id = i.batch_id
                       left join audit.runs r on r.run_id = b.run_id
                       where i.publication_id = %s order by i.source_file""",
            (publication_id,),
        )
        inputs = cur.fetchall()
        cur.execute(
            "select period, province_code, cycle from audit.publications where publication_id = %s",
            (publication_id,),
        )
        period, province, cycle = cur.fetchone()
    pack = Path(out) / f"evidence-{publication_id}"
    if pack.exists():
        shutil.rmtree(pack)
    (pack / "inputs").mkdir(parents=True)
    for source_file, sha, root in inputs:
        source = _stored(sha)  # kept at publication
        if not source.is_file():
            source = Path(root or "") / source_file
            if not root or not source.is_file() or _sha256(source) != sha:
                raise PublicationError(
                    f"input {source_file} of {publication_id} (sha256 {sha[:12]}…) was not kept at "
                    f"publication and is no longer under {root!r} as landed: the pack cannot include it")
        target = pack / "inputs" / source_file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    queries = {
        "publication.csv": ("select * from audit.publications where publication_id = %(id)s", {}),
        "publication_inputs.csv": (
            "select * from audit.publication_inputs where publication_id = %(id)s order by source_file",
            {},
        ),
        "batches.csv": (
            """select b.batch_id, b.unit_code, b.period, b.period_start, b.period_end, b.status,
                                  b.verdict, b.reason, b.delivered_at
                           from raw.batches b
                           where b.batch_id in (select batch_id from audit.publication_inputs
                                                where publication_id = %(id)s)
                           order by b.batch_id""",
            {},
        ),
        "dq_results.csv": (
            """select * from marts.dq_results
                              where batch_id in (select batch_id from audit.publication_inputs
                                                 where publication_id = %(id)s)
                              order by batch_id, expectation""",
            {},
        ),
        "scoring_rules.csv": (
            """select * from marts.scoring_rules
                                 where rule_version in (select unnest(rule_versions) from audit.publications
                                                        where publication_id = %(id)s)
                                 order by rule_version, criterion_code""",
            {},
        ),
        "criterion_lineage.csv": (
            """select l.* from marts.criterion_lineage l
                                     join audit.published_unit_scores u
                                       on u.publication_id = %(id)s and u.unit_code = l.unit_code
                                     where l.period = %(period)s
                                     order by l.unit_code, l.criterion_code, l.item_type, l.item_id""",
            {},
        ),
        **{
            f"{name}.csv": (
                f"select * from audit.{name} where publication_id = %(id)s order by unit_code"
                + (", group_code" if "group" in name else ", criterion_code" if "criterion" in name else ""),
                {},
            )
            for name in SCORE_FILES
        },
    }
    for name, (sql, _) in queries.items():
        (pack / name).write_text(
            warehouse.query_csv(sql, dsn, params={"id": publication_id, "period": period}, read_only=True),
            encoding="utf-8",
        )
    months = sorted({row["period"] for row in csv.DictReader((pack / "publication_inputs.csv").open())})
    reports = config.reports_dir()
    for month in months:
        summary = reports / month / "dq_summary.html"
        if summary.is_file():
            (pack / "reports" / month).mkdir(parents=True, exist_ok=True)
            shutil.copy2(summary, pack / "reports" / month / "dq_summary.html")
    files = {str(p.relative_to(pack)): _sha256(p) for p in sorted(pack.rglob("*")) if p.is_file()}
    manifest = {
        "publication_id": publication_id,
        "period": period,
        "province_code": province,
        "cycle": cycle,
        "months": months,
        "created_at": datetime.now(UTC).isoformat(),
        "created_by": code_version(),
        "files": files,
    }
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    archive = Path(shutil.make_archive(str(pack), "zip", root_dir=pack))
    log.info("evidence pack %s (%d files) and %s", pack, len(files), archive.name)
    return archive


@dataclass
class Verification:
    pack: Path
    problems: list[str] = field(default_factory=list)
    recomputed: bool = False

    @property
    def identical(self) -> bool:
        return self.recomputed and not self.problems

    def __str__(self) -> str:
        if self.identical:
            return (f"{self.pack}: identical (every file's sha256 matches; the scores recomputed "
                    "from its inputs agree)")
        if not self.problems:
            return f"{self.pack}: every file's sha256 matches the manifest (scores not recomputed)"
        return f"{self.pack}: {len(self.problems)} problem(s)\n" + "\n".join(
            f"  - {p}" for p in self.problems
        )


def verify_evidence(pack: Path, recompute: bool = True) -> Verification:
    """Check a pack's files against its manifest, then recompute its scores from its inputs."""
    pack = Path(pack)
    with tempfile.TemporaryDirectory(prefix="chiso-verify-") as scratch:
        folder = pack
        if pack.is_file():
            folder = Path(scratch) / "pack"
            with zipfile.ZipFile(pack) as archive:
                for member in archive.namelist():  # never outside the scratch folder
                    if member.startswith("/") or ".." in Path(member).parts:
                        return Verification(pack, [f"unsafe path in the archive: {member}"])
                archive.extractall(folder)
        result = Verification(pack)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            result.problems.append(f"manifest.json unreadable: {err}")
            return result
        present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
        for name, sha in manifest["files"].items():
            path = folder / name
            if not path.is_file():
                result.problems.append(f"{name}: missing")
            elif _sha256(path) != sha:
                result.problems.append(
                    f"{name}: sha256 {_sha256(path)[:16]}… differs from the manifest's {sha[:16]}…"
                )
        result.problems += [
            f"{name}: not in the manifest" for name in sorted(present - set(manifest["files"]))
        ]
        if result.problems or not recompute:
            return result
        result.problems += _recompute(folder, manifest, Path(scratch))
        result.recomputed = True
        return result


def _recompute(folder: Path, manifest: dict, scratch: Path) -> list[str]:
    """Run the pipeline on the pack's inputs in a throwaway embedded warehouse; compare."""
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_URL" and not k.startswith("AIRFLOW")}
    env.update(
        CHISO_STATE_DIR=str(scratch / "state"),
        CHISO_REPORTS_DIR=str(scratch / "reports"),
        # applicant references never reach a score: any key will do
        CHISO_PSEUDONYM_KEY=secrets.token_hex(32),
        CHISO_HOME=str(config.project_dir()),
    )
    command = [sys.executable, "-m", "chiso.cli"]
    province = manifest.get("province_code")
    try:
        for month in manifest["months"]:
            run = [
                *command,
                "run",
                "--submissions",
                str(folder / "inputs"),
                "--period",
                month,
                "--cycle",
                manifest.get("cycle") or "calendar",
            ]
            if province:
                run += ["--province", province]
            done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                return [f"recomputing {month} failed: {(done.stderr or done.stdout).strip()[-500:]}"]
        period = manifest["period"]
        now = {}
        for name, sql in {
            "published_unit_scores": "select unit_code, total_points, rating, rank_in_province, data_status "
            "from marts.unit_ranking where period = '{p}'",
            "published_group_scores": "select unit_code, group_code, points from marts.group_scores "
            "where period = '{p}'",
            "published_criterion_scores": "select unit_code, criterion_code, numerator, denominator, "
            "round(points, 6) as points from marts.criterion_scores "
            "where period = '{p}'",
        }.items():
            done = subprocess.run(
                [*command, "sql", sql.format(p=_check_period(period))],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                return [f"reading the recomputed {name} failed: {done.stderr.strip()[-300:]}"]
            now[name] = list(csv.DictReader(io.StringIO(done.stdout)))
    finally:
        subprocess.run([*command, "db", "stop"], env=env, capture_output=True, timeout=120)
    return _compare(folder, now)


def _compare(folder: Path, now: dict[str, list[dict[str, str]]]) -> list[str]:
    problems = []
    keys = {
        "published_unit_scores": ("unit_code",),
        "published_group_scores": ("unit_code", "group_code"),
        "published_criterion_scores": ("unit_code", "criterion_code"),
    }
    for name, key in keys.items():
        recomputed = {tuple(r[k] for k in key): r for r in now[name]}
        published = {tuple(r[k] for k in key): r for r in csv.DictReader((folder / f"{name}.csv").open())}
        for item in sorted(set(published) | set(recomputed)):
            old, new = published.get(item), recomputed.get(item)
            if old is None or new is None:
                problems.append(
                    f"{name} {'/'.join(item)}: {'only recomputed' if old is None else 'not recomputed'}"
                )
                continue
            for column, value in new.items():
                if column in key:
                    continue
                if not _same(old.get(column, ""), value):
                    problems.append(
                        f"{name} {'/'.join(item)} {column}: published {old.get(column)!r}, "
                        f"recomputed {value!r}"
                    )
    return problems


def _same(a: str, b: str) -> bool:
    try:
        return abs(float(a) - float(b)) < 1e-6
    except ValueError:
        return a == b
