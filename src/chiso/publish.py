"""Reports a person can read: ranking CSV and chart, DQ summary page, GX Data Docs."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from chiso import config, warehouse

log = logging.getLogger(__name__)


def publish(period: str, province: str | None, run_id: str, dsn: str | None = None) -> Path:
    """Write the period's reports, reading the warehouse as `dsn` (the pipeline passes the
    read-only auditor role)."""
    out = config.reports_dir() / period
    out.mkdir(parents=True, exist_ok=True)
    ranking_sql = """
        select rank_in_province, unit_code, unit_name, total_points, rating, data_status,
               prev_rank, prev_total_points
        from marts.unit_ranking where period = %s and (%s::text is null or province_code = %s)
        order by province_code, rank_in_province nulls last, unit_code"""
    (out / "unit_ranking.csv").write_text(
        warehouse.query_csv(ranking_sql, dsn, params=(period, province, province)), encoding="utf-8")
    # the quarter and the year to date as they stand after this month (index-766.md §3)
    for rollup in rollups_of(period):
        (out / f"unit_ranking_{rollup}.csv").write_text(
            warehouse.query_csv(ranking_sql, dsn, params=(rollup, province, province)), encoding="utf-8")
    _ranking_chart(out / "unit_ranking.png", period, province, dsn)
    docs = None
    try:
        from chiso import gate

        docs = gate.build_data_docs()
    except Exception as err:  # Data Docs are a convenience; the DQ tables are the record.
        log.warning("GX Data Docs not built: %s", err)
    _dq_summary(out / "dq_summary.html", period, province, docs, run_id, dsn)
    log.info("reports for %s in %s", period, out)
    return out


def rollups_of(month: str) -> tuple[str, str]:
    """The quarter and year labels a month belongs to: 2025-09 → (2025-Q3, 2025)."""
    return f"{month[:4]}-Q{(int(month[5:7]) + 2) // 3}", month[:4]


def _ranking_chart(path: Path, period: str, province: str | None, dsn: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warehouse.cursor(dsn, read_only=True) as cur:
        cur.execute(
            """select g.group_code, g.points from marts.group_scores g
               join marts.unit_ranking r using (unit_code, period)
               where r.period = %s and (%s::text is null or r.province_code = %s)
                 and r.total_points is not null
               order by r.total_points desc, r.unit_code""",
            (period, province, province),
        )
        rows = cur.fetchall()
    if not rows:
        return
    groups: dict[str, list[float]] = {}
    for group_code, points in rows:
        groups.setdefault(group_code, []).append(float(points))
    fig, ax = plt.subplots(figsize=(12, 4.5))
    bottom = [0.0] * len(next(iter(groups.values())))
    for group_code, values in groups.items():
        ax.bar(range(len(values)), values, bottom=bottom, label=group_code, width=0.9)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(f"Decision 766 index by unit, {period} (ranked; stacked by group)")
    ax.set_xlabel("units, best to worst")
    ax.set_ylabel("points (of 100)")
    ax.legend(ncol=6, fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _restatements_html(period: str, province: str | None, dsn: str | None) -> str:
    """Published figures of the month, its quarter and its year that changed since their latest
    publication, and why (marts.restatements)."""
    labels = [period, *rollups_of(period)]
    with warehouse.cursor(dsn, read_only=True) as cur:
        cur.execute(
            """select r.period, r.unit_code, r.measure, coalesce(r.old_value, ''), coalesce(r.new_value, ''),
                      r.cause, r.publication_id
               from audit.restatements r
               join (select distinct on (period, coalesce(province_code, ''))
                            publication_id, province_code
                     from audit.publications
                     order by period, coalesce(province_code, ''), published_at desc) p
                 using (publication_id)
               where r.period = any(%s) and (%s::text is null or p.province_code is null
                                             or p.province_code = %s)
               order by r.period, r.unit_code, r.measure""",
            (labels, province, province),
        )
        rows = cur.fetchall()
    if not rows:
        return ""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return (f"<h2>Restatements since the latest publication ({len(rows)})</h2>"
            "<table><tr><th>period</th><th>unit</th><th>measure</th><th>published</th><th>now</th>"
            f"<th>cause</th><th>publication</th></tr>{body}</table>")


def _inventory_html(period: str, province: str | None, run_id: str, dsn: str | None) -> str:
    """Paths of the run that were not landed, and the units that sent nothing."""
    with warehouse.cursor(dsn, read_only=True) as cur:
        cur.execute(
            """select i.status, i.path, coalesce(i.reason, ''), coalesce(c.name, '')
               from audit.inventory i left join ref.communes c on c.code = i.unit_code
               where i.run_id = %s and i.status <> 'landed'
               order by i.status, i.path""",
            (run_id,),
        )
        rows = cur.fetchall()
    if not rows:
        return "<h2>Inventory</h2><p>Every path in scope was landed.</p>"
    silent = [r for r in rows if r[0] == "no_submission"]
    others = [r for r in rows if r[0] != "no_submission"]
    body = "".join(
        f"<tr class='{status}'><td>{status.replace('_', ' ')}</td><td><code>{html.escape(path)}</code></td>"
        f"<td>{html.escape(reason)}</td></tr>"
        for status, path, reason, _ in others
    )
    names = ", ".join(f"{html.escape(path.split('/')[1])} {html.escape(name)}" for _, path, _, name in silent)
    return (f"<h2>Inventory (run {html.escape(run_id)})</h2>"
            f"<p>Paths not landed: {len(others)}. Units without a submission for {period}: "
            f"{len(silent)}{': ' + names if names else ''}.</p>"
            f"<table><tr><th>status</th><th>path</th><th>reason</th></tr>{body}</table>")


def _dq_summary(path: Path, period: str, province: str | None, docs: Path | None,
                run_id: str, dsn: str | None) -> None:
    with warehouse.cursor(dsn, read_only=True) as cur:
        cur.execute(
            """select b.unit_code, coalesce(c.name, '?'), b.batch_id, b.status, b.landed_at,
                      coalesce(b.reason, ''),
                      (select count(*) from audit.expectation_results e
                        where e.batch_id = b.batch_id and not e.success and e.severity = 'warn')
               from raw.batches b left join ref.communes c on c.code = b.unit_code
               where b.period = %s and (%s::text is null or b.province_code = %s)
               order by b.status <> 'quarantined', b.unit_code, b.landed_at""",
            (period, province, province),
        )
        rows = cur.fetchall()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[3]] = counts.get(row[3], 0) + 1
    body = "".join(
        f"<tr class='{status}'><td>{html.escape(unit)}</td><td>{html.escape(name)}</td>"
        f"<td><code>{html.escape(batch)}</code></td><td>{status}</td><td>{warnings}</td>"
        f"<td>{html.escape(reason)}</td></tr>"
        for unit, name, batch, status, _landed, reason, warnings in rows
    )
    inventory = _inventory_html(period, province, run_id, dsn)
    restated = _restatements_html(period, province, dsn)
    docs_link = f"<p>GX Data Docs: <a href='{docs.as_uri()}'>{docs}</a></p>" if docs else ""
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    path.write_text(
        f"""<!doctype html><meta charset="utf-8"><title>chiso DQ {period}</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px;border-bottom:1px solid #ddd}}
tr.quarantined{{background:#fdd}} tr.warned{{background:#ffd}} tr.superseded{{color:#999}}</style>
<h1>Data quality, period {period}{' — province ' + province if province else ''}</h1>
<p>Batches received: {len(rows)} ({summary}). Details per expectation:
<code>select * from marts.dq_results where period = '{period}'</code>;
per batch: <code>chiso quarantine show BATCH</code>.</p>{docs_link}
<table><tr><th>unit</th><th>name</th><th>batch</th><th>status</th><th>warnings</th>
<th>reason</th></tr>{body}</table>{restated}{inventory}""",
        encoding="utf-8",
    )
