{#- The grain of a table: no two rows share these columns (dbt-utils'
    unique_combination_of_columns, written here because `dbt deps` has no network).
    `month_only`: a rollup state built a month at a time, whose unique index on this grain
    (macro rollup_state_indexes) holds every write to it; a build of a month checks that
    month's rows only (they belong to its quarter and year and no other rollup). -#}
{% test unique_combination(model, columns, month_only=false) %}

select
    {{ columns | join(',\n    ') }},
    count(*) as rows_with_this_key
from {{ model }}
{%- if month_only and selected_period() is not none %}
where month = '{{ selected_period() }}'
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
