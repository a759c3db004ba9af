{#- Typing of raw text (every raw value is delivered as text, DESIGN §4).
    Empty strings and NULL are missing; a value that does not parse becomes NULL
    instead of failing the build (the gate reports malformed values, staging must
    not lose the other columns of the row). -#}

{% macro blank_to_null(column) -%}
    nullif(btrim({{ column }}), '')
{%- endmacro %}

{#- Lower-case and strip the Vietnamese diacritics that occur in yes/no answers, so
    'Có', 'CÓ', 'có', 'co' and 'Không', 'KHÔNG', 'khong' all compare equal; done with
    translate() rather than lower() alone because lower() of non-ASCII letters
    depends on the server's ctype. -#}
{% macro fold_text(column) -%}
    translate(
        lower(btrim({{ column }})),
        'ÓÒỎÕỌÔỐỒỔỖỘƠỚỜỞỠỢóòỏõọôốồổỗộơớờởỡợĐđ',
        'oooooooooooooooooooooooooooooooooodd'
    )
{%- endmacro %}

{#- The exact spellings landing writes are matched first: folding costs a translate()
    per value, which on a national month of six yes/no columns was most of the build. -#}
{% macro to_bool(column) -%}
    case
        when {{ column }} in ('true', '1', 'co', 'yes') then true
        when {{ column }} in ('false', '0', 'khong', 'no') then false
        when {{ fold_text(column) }} in ('true', 't', '1', '1.0', 'yes', 'y', 'co', 'x')
            then true
        when {{ fold_text(column) }} in ('false', 'f', '0', '0.0', 'no', 'n', 'khong')
            then false
    end
{%- endmacro %}

{#- 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' (landing normalises XLSX dates); a 'T'
    separator and fractional seconds are tolerated. -#}
{#- audit.plainly_valid_timestamp (sql/020_audit.sql) vouches for the usual
    'YYYY-MM-DD HH:MM:SS' without a regex on PostgreSQL 16+. -#}
{% macro to_timestamp(column) -%}
    case
        when audit.plainly_valid_timestamp({{ column }}) then cast({{ column }} as timestamp)
        when btrim({{ column }}) ~ '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$'
            then cast(replace(btrim({{ column }}), 'T', ' ') as timestamp)
    end
{%- endmacro %}

{% macro to_numeric(column) -%}
    case
        when btrim({{ column }}) ~ '^[-+]?\d+(\.\d+)?$'
            then cast(btrim({{ column }}) as numeric)
    end
{%- endmacro %}

{#- Integers may arrive as '2' or '2.0' (spreadsheets store numbers as floats). -#}
{% macro to_integer(column) -%}
    case
        when btrim({{ column }}) ~ '^[-+]?\d+(\.0+)?$'
            then cast(cast(btrim({{ column }}) as numeric) as integer)
    end
{%- endmacro %}

{% macro to_enum(column) -%}
    lower(nullif(btrim({{ column }}), ''))
{%- endmacro %}
