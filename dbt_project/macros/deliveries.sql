{#- The rows of `relation` (a CTE of a staging model's rows) but for the later deliveries
    of a key repeated in its batch (int_repeated_deliveries, CTE `repeated`, this source's
    rows): each record once, as first delivered. Rows without a key are left out. -#}
{% macro first_deliveries(relation, key, repeated='repeated') -%}
    select {{ relation }}.*
    from {{ relation }}
    left join {{ repeated }}
        on
            {{ relation }}.batch_id = {{ repeated }}.batch_id
            and {{ relation }}.{{ key }} = {{ repeated }}.record_key
            and {{ relation }}.source_file = {{ repeated }}.source_file
            and {{ relation }}.source_row = {{ repeated }}.source_row
    where
        {{ relation }}.{{ key }} is not null
        and {{ repeated }}.batch_id is null
{%- endmacro %}
