-- Ranks are dense within province and period: 1..n with no gaps, equal totals
-- share a rank, and a higher total never has a worse rank. Quarantined units have
-- no rank.
with

ranking as (
    select * from {{ ref('unit_ranking') }}
),

per_province as (
    select
        province_code,
        period,
        max(rank_in_province) as max_rank,
        count(distinct rank_in_province) as distinct_ranks,
        count(distinct total_points) as distinct_totals,
        count(*) filter (where total_points is null and rank_in_province is not null) as ranked_without_total,
        count(*) filter (where data_status = 'quarantined' and rank_in_province is not null) as quarantined_ranked
    from ranking
    group by province_code, period
),

bad_provinces as (
    select
        province_code,
        period,
        'rank gaps or unranked units' as problem
    from per_province
    where
        coalesce(max_rank, 0) <> distinct_ranks
        or distinct_ranks <> distinct_totals
        or ranked_without_total > 0
        or quarantined_ranked > 0
),

inversions as (
    select
        better.province_code,
        better.period,
        'higher total ranked lower: ' || better.unit_code || ' vs ' || worse.unit_code as problem
    from ranking as better
    inner join ranking as worse
        on
            better.province_code = worse.province_code
            and better.period = worse.period
            and better.total_points > worse.total_points
            and better.rank_in_province >= worse.rank_in_province
)

select * from bad_provinces
union all
select * from inversions
