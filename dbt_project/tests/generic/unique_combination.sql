{#- The grain of a table: no two rows share these columns (dbt-utils'
    unique_combination_of_columns, written here because `dbt deps` has no network). -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(',\n    ') }},
    count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
