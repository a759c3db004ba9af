{#- Typing of raw text (every raw value is delivered as text, DESIGN §4) with the one
    definition of a readable value, the util.try_* functions of sql/005_values.sql that the
    gate's row checks call too. Each returns NULL for a value it cannot read with exactly
    one meaning and never raises, so typing cannot fail the build; staging types only the
    batches the gate passed or warned, so in practice every value present reads. -#}

{% macro blank_to_null(column) -%}
    nullif(btrim({{ column }}), '')
{%- endmacro %}

{% macro to_bool(column) -%}
    util.try_boolean({{ column }})
{%- endmacro %}

{% macro to_timestamp(column) -%}
    util.try_timestamp({{ column }})
{%- endmacro %}

{% macro to_numeric(column) -%}
    util.try_numeric({{ column }})
{%- endmacro %}

{#- Amounts in đồng: '50.000' is fifty thousand (the currency has no minor unit). -#}
{% macro to_amount(column) -%}
    util.try_amount({{ column }})
{%- endmacro %}

{% macro to_integer(column) -%}
    util.try_integer({{ column }})
{%- endmacro %}

{% macro to_enum(column) -%}
    lower(nullif(btrim({{ column }}), ''))
{%- endmacro %}

{#- Gate verdicts whose rows are typed and scored; a quarantined batch's values are
    never cast. -#}
{% macro scored_statuses() -%}
    ('passed', 'warned')
{%- endmacro %}

{#- `value` (a timestamp), or the last instant of its day when `delivered` (the timestamp
    it was worked out from) has no time of day: a date alone names the whole day. -#}
{% macro end_of_day_if_date_only(value, delivered) -%}
    case
        when cast({{ delivered }} as time) = time '00:00'
            then date_trunc('day', {{ value }}) + interval '1 day' - interval '1 microsecond'
        else {{ value }}
    end
{%- endmacro %}
