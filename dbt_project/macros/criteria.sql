{#- Which classified model carries each criterion's numerator/denominator flags
    (columns crit_<code>_num / crit_<code>_den). int_criterion_counts and
    criterion_lineage both loop over this one list, so the counts behind a score and
    the rows an auditor sees come from the same flags. A new criterion needs a row in
    seeds/scoring_rules.csv and its flags here. -#}
{% macro criterion_items() -%}
    {{ return({
        'dossier': ['1.4', '2.1', '3.3', '3.6', '4.1', '4.2', '4.3', '4.4', '4.5', '5.4'],
        'procedure': ['1.1', '1.2', '1.3', '3.1', '3.2', '3.5', '3.5b', '4.6', '4.7'],
        'feedback': ['5.2', '5.3'],
    }) }}
{%- endmacro %}

{% macro criterion_column(criterion_code, part) -%}
    crit_{{ criterion_code | replace('.', '_') }}_{{ part }}
{%- endmacro %}

{#- The sum of counts already counted (one unit's month at most, so within an integer):
    PostgreSQL adds integers in a 64-bit value kept in the aggregate's row, but bigints in a
    128-bit state allocated per group and returned as numeric. Re-adding the month's part
    counts (45 sums over 277k groups at 1,000 units) spilled to disk that way: 5.6 → 4.8 s
    for int_dossiers_rollup_parts. The result is a bigint. -#}
{% macro sum_of_counts(column) -%}
    sum(cast({{ column }} as integer))
{%- endmacro %}
