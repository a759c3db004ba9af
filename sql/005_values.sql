-- One definition of a valid value (DESIGN §4): the gate's row checks and dbt's casts both
-- call these functions, so a value the gate lets through is exactly a value dbt can type,
-- and a value dbt cannot type is exactly one the gate reports. Every function returns NULL
-- for anything it cannot read with exactly one meaning, and never raises: a bad cell is a
-- finding for the gate, never a failed build.
--
-- Written as they are for speed and parallel scans: the usual spelling is decided by an
-- inlinable one-expression SQL function; anything else goes to a plpgsql function that
-- parses it field by field. No exception blocks (they start subtransactions, which
-- parallel workers may not), so every input is checked before it is cast.
create schema if not exists util;

-- Dates and times, as commune offices write them:
--   ISO      2025-09-05, 2025-09-05 08:15, 2025-09-05T08:15:30(.123), 2025/09/05 08:15
--   day-first (Vietnamese usage; never month-first)  5/9/2025, 05-09-2025, 05.09.2025 08:15
--   a 12-hour clock, as Excel on a Vietnamese Windows shows it: 08:15:00 SA (sáng, a.m.),
--     02:30 CH (chiều, p.m.), or AM/PM; hours 1-12 then
--   a time zone after the time, as APIs write it: 2025-09-05T01:15:00Z, …+07:00, …+0700;
--     read as the time in Vietnam (UTC+7), where the offices are
-- A real calendar day (no 31/09), hours 0-23, years 1900-2099.
create or replace function util.parse_timestamp(value text) returns timestamp
language plpgsql immutable parallel safe as $$
declare
    v text := btrim(value);
    m text[];
    zone text[];
    y int; mo int; d int; h int := 0; mi int := 0; s numeric := 0;
    -- the time, then a 12-hour clock's half of the day, then a time zone
    clock constant text := '(?:(?:[ T]+|, *)(\d{1,2})[:HG](\d{2})(?::(\d{2}(?:\.\d{1,6})?))?'
                           '(?: *(SA|CH|AM|PM))?(?: *(Z|[+-]\d{2}(?::?\d{2})?))?)?$';
    shift interval := interval '0';
begin
    if v is null or v = '' or length(v) > 40 then
        return null;
    end if;
    v := upper(v);
    m := regexp_match(v, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})' || clock);
    if m is not null then
        y := m[1]::int; mo := m[2]::int; d := m[3]::int;
    else
        m := regexp_match(v, '^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})' || clock);
        if m is null then
            return null;
        end if;
        d := m[1]::int; mo := m[2]::int; y := m[3]::int;
    end if;
    if m[4] is not null then
        h := m[4]::int; mi := m[5]::int; s := coalesce(m[6]::numeric, 0);
    end if;
    if m[7] is not null then  -- 12 SA is midnight, 12 CH noon
        if h < 1 or h > 12 then
            return null;
        end if;
        h := h % 12 + case when m[7] in ('CH', 'PM') then 12 else 0 end;
    end if;
    if m[8] is not null and m[8] <> 'Z' then
        zone := regexp_match(m[8], '^([+-])(\d{2}):?(\d{2})?$');
        if zone[2]::int > 14 or coalesce(zone[3], '0')::int > 59 then
            return null;
        end if;
        shift := make_interval(hours => zone[2]::int, mins => coalesce(zone[3], '0')::int)
                  * case when zone[1] = '-' then -1 else 1 end;
    end if;
    if y < 1900 or y > 2099 or mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s >= 60
       or d > extract(day from make_date(y, mo, 1) + interval '1 month - 1 day') then
        return null;
    end if;
    if m[8] is not null then  -- the same instant, on Vietnam's clock
        return make_timestamp(y, mo, d, h, mi, s::double precision) - shift + interval '7 hours';
    end if;
    return make_timestamp(y, mo, d, h, mi, s::double precision);
end
$$;

-- The usual ISO spellings 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM' and 'YYYY-MM-DD HH:MM:SS' (what
-- landing writes for spreadsheet dates and what most CSVs carry) without the plpgsql parser.
-- PostgreSQL 16+ has pg_input_is_valid, cheaper than a regex; the bounds checked here are
-- those parse_timestamp applies and the server's parser alone does not (years, 24:00).
-- Before 16, a regex, and the days 29-31 of February only through the parser.
do $$
begin
    if current_setting('server_version_num')::int >= 160000 then
        -- The shape by LIKE and C-collation bounds, which cost less than substr() (it walks a
        -- UTF-8 string character by character) or a regex. pg_input_is_valid is lenient where
        -- the definition is not (it reads '2025-09-03 +8:15' as midnight, '08:1 ' as 08:01),
        -- so the value must also read back as itself: digits where digits go, no 24:00, no :60.
        create or replace function util.is_plain_timestamp(value text) returns boolean
            language sql stable parallel safe
            return case
                when (value like '____-__-__' or value like '____-__-__ __:__'
                      or value like '____-__-__ __:__:__')
                     and value collate "C" >= '1900' and value collate "C" < '2100'
                     and pg_input_is_valid(value, 'timestamp')
                    then cast(value as timestamp)::text = value || substr(' 00:00:00', length(value) - 9)
                else false
            end;
    else
        create or replace function util.is_plain_timestamp(value text) returns boolean
            language sql immutable parallel safe
            return value like '____-__-__%'
                and value ~ '^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])( ([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?)?$'
                and (substr(value, 9, 2) <= '28'
                     or (substr(value, 6, 2) <> '02'
                         and (substr(value, 9, 2) <= '30'
                              or substr(value, 6, 2) in ('01', '03', '05', '07', '08', '10', '12'))));
    end if;
end
$$;

-- Day-first with two-digit day and month, as spreadsheets and portal exports write it
-- ('05/09/2025', '05/09/2025 08:15', '05/09/2025 08:15:30'), rewritten as ISO text without
-- the plpgsql parser (which costs a hundred times more per value).
create or replace function util.day_first_as_iso(value text) returns text
language sql immutable parallel safe
return case
    when value like '__/__/____' or value like '__/__/____ __:__' or value like '__/__/____ __:__:__'
        then substr(value, 7, 4) || '-' || substr(value, 4, 2) || '-' || substr(value, 1, 2)
            || substr(value, 11)
end;

create or replace function util.try_timestamp(value text) returns timestamp
language sql stable parallel safe
return case
    when util.is_plain_timestamp(value) then cast(value as timestamp)
    when value is null or value = '' then null
    when util.is_plain_timestamp(util.day_first_as_iso(value))
        then cast(util.day_first_as_iso(value) as timestamp)
    else util.parse_timestamp(value)
end;

create or replace function util.try_date(value text) returns date
language sql stable parallel safe
return cast(util.try_timestamp(value) as date);

-- Whole numbers that fit a PostgreSQL integer; spreadsheets write 2 as '2.0' or '2,0'.
create or replace function util.try_integer(value text) returns integer
language sql immutable parallel safe
return case
    -- digits alone, fewer than ten (an integer surely): without the regex, four times cheaper
    when btrim(value, '0123456789') = '' and length(value) between 1 and 9 then cast(value as integer)
    when btrim(value) ~ '^[+-]?\d{1,10}([.,]0+)?$' then
        case
            when abs(cast(substring(btrim(value) from '^[+-]?\d+') as bigint)) <= 2147483647
                then cast(substring(btrim(value) from '^[+-]?\d+') as integer)
        end
end;

-- Numbers with at most one reading. Accepted: 12, -3, 1.5, 1,5 (decimal comma), .5,
-- 1.234.567 and 1,234,567 (two or more thousands groups), 1.234,5 and 1,234.5 (both
-- separators). Refused: '1.234' and '1,234', which read as a thousand in one convention
-- and as a decimal in the other (amounts of money have one reading: util.try_amount).
create or replace function util.parse_numeric(value text, group_of_three_is_thousands boolean)
returns numeric
language plpgsql immutable parallel safe as $$
declare
    v text := replace(btrim(value), ' ', '');
    sign text := '';
begin
    if v is null or v = '' or length(v) > 40 then
        return null;
    end if;
    if left(v, 1) in ('+', '-') then
        sign := nullif(left(v, 1), '+');
        v := substr(v, 2);
    end if;
    sign := coalesce(sign, '');
    if group_of_three_is_thousands then
        -- money: a currency written before or after the amount ('50.000đ', '50,000 VNĐ',
        -- '₫50.000'); a lone dash is what an accounting format shows for zero
        if v = '' then
            return case when sign = '-' then 0 end;
        end if;
        v := regexp_replace(upper(v), '^(VNĐ|VND|₫)|(VNĐ|VND|ĐỒNG|₫|Đ)$', '', 'g');
    end if;
    if v ~ '^\d+$' then
        return cast(sign || v as numeric);
    elsif v ~ '^\d{1,3}(\.\d{3}){2,}$' or (group_of_three_is_thousands and v ~ '^\d{1,3}\.\d{3}$') then
        return cast(sign || replace(v, '.', '') as numeric);
    elsif v ~ '^\d{1,3}(,\d{3}){2,}$' or (group_of_three_is_thousands and v ~ '^\d{1,3},\d{3}$') then
        return cast(sign || replace(v, ',', '') as numeric);
    elsif v ~ '^\d{1,3}(\.\d{3})+,\d+$' then
        return cast(sign || replace(replace(v, '.', ''), ',', '.') as numeric);
    elsif v ~ '^\d{1,3}(,\d{3})+\.\d+$' then
        return cast(sign || replace(v, ',', '') as numeric);
    elsif v ~ '^\d{1,3}[.,]\d{3}$' and v !~ '^0' then
        return null;  -- a thousand or a decimal: not guessed
    elsif v ~ '^\d*[.,]\d+$' then
        return cast(sign || '0' || replace(v, ',', '.') as numeric);
    end if;
    return null;
end
$$;

-- The usual plain digits without the plpgsql parser.
create or replace function util.read_number(value text, group_of_three_is_thousands boolean)
returns numeric
language sql immutable parallel safe
return case
    when value is null or value = '' then null
    -- digits alone: btrim with a character set costs a quarter of the regex below
    when btrim(value, '0123456789') = '' and length(value) <= 15 then cast(value as numeric)
    when btrim(value) ~ '^[0-9]{1,15}$' then cast(btrim(value) as numeric)
    else util.parse_numeric(value, group_of_three_is_thousands)
end;

create or replace function util.try_numeric(value text) returns numeric
language sql immutable parallel safe
return util.read_number(value, false);

-- Amounts of money in đồng, which has no minor unit: '50.000' and '50,000' are fifty
-- thousand, as a Vietnamese and an English spreadsheet write them; 'đ', '₫', 'VNĐ' or 'VND'
-- around the amount are read past, and '-' alone (an accounting format's zero) is 0.
create or replace function util.try_amount(value text) returns numeric
language sql immutable parallel safe
return util.read_number(value, true);

-- Yes/no as forms write it: true/false, 1/0, yes/no, y/n, có/không (with or without tone
-- marks, any case), đúng/sai, x (a ticked box), đã …/chưa … (done, not yet). The spellings
-- landing writes come first.
create or replace function util.try_boolean(value text) returns boolean
language sql immutable parallel safe
return case
    when value in ('true', '1', 'co') then true
    when value in ('false', '0', 'khong') then false
    else case translate(lower(btrim(value)),
                        'ÓÒỎÕỌÔỐỒỔỖỘƠỚỜỞỠỢóòỏõọôốồổỗộơớờởỡợĐđÚÙỦŨỤúùủũụ',
                        'oooooooooooooooooooooooooooooooooodduuuuuuuuuu')
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true
        when 'co' then true when 'x' then true when 'dung' then true when '1.0' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false
        when 'khong' then false when 'sai' then false when '0.0' then false
        -- a state: 'Đã đồng bộ', 'Đã số hóa' (done) or 'Chưa …' (not yet)
        else case
            when lower(btrim(value)) ~ '^(đã|da)( |$)' then true
            when lower(btrim(value)) ~ '^(chưa|chua)( |$)' then false
        end
    end
end;

-- A value is missing when it is NULL or blank; everything else must read.
create or replace function util.is_blank(value text) returns boolean
language sql immutable parallel safe
return nullif(btrim(value), '') is null;
