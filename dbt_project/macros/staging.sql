{#- Helpers shared by the staging models. -#}

{#- The local time zone (DESIGN.md section 6): var('timezone') when given, else SAYPRO_TIMEZONE.
    Read here, not in dbt_project.yml: an environment variable that dbt_project.yml reads and
    that differs from the last parse makes dbt parse the whole project again. Read only when
    models run, as run_setting() does: a parse then does not depend on it, and the project's
    parse is where every data dir's first parse starts (orchestration/dbt_runner.py). -#}
{% macro local_timezone() -%}
    {%- if not execute -%} {{- return(var('timezone', none)) -}} {%- endif -%}
    {{- return(var('timezone', none) or env_var('SAYPRO_TIMEZONE', 'Africa/Johannesburg')) -}}
{%- endmacro %}

{#- Local calendar date / month of a UTC timestamptz in the local time zone. -#}
{% macro local_date(ts) -%}
    ({{ to_local_time(local_timezone(), '(' ~ ts ~ ')') }})::date
{%- endmacro %}

{% macro local_month(ts) -%}
    date_trunc('month', {{ to_local_time(local_timezone(), '(' ~ ts ~ ')') }})::date
{%- endmacro %}

{#- Unix seconds (number or numeric string) to timestamptz; 0 or empty means unknown. -#}
{% macro from_unix(expr) -%}
    case when try_cast({{ expr }} as bigint) > 0
         then {{ instant_from_unix('try_cast(' ~ expr ~ ' as bigint)') }} end
{%- endmacro %}

{#- Salted SHA-256 of an e-mail address or phone number (DESIGN.md section 5):
    sha256(salt || lower(trim(value))), NULL when empty. The function comes from the dbt-duckdb
    plugin plugins/saypro_pii.py, which reads SAYPRO_PII_SALT in Python: the salt must not be in
    SQL, where dbt would keep it in compiled files, logs, its parse cache and view definitions. -#}
{% macro pii_hash(expr) -%}
    saypro_pii_hash({{ expr }})
{%- endmacro %}

{#- Free text with e-mail addresses and phone numbers masked. -#}
{% macro mask_pii(expr) -%}
    {{ regex_replace_all(
        regex_replace_all(expr, regex_literal('[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'), "'[email]'"),
        regex_literal('(\+?27|0)[\s-]?\d{2}[\s-]?\d{3}[\s-]?\d{4}|\+\d[\d\s-]{7,}\d'), "'[phone]'") }}
{%- endmacro %}

{#- A KoboToolbox answer by question name, whatever group path prefixes its key. -#}
{% macro kobo_field(name) -%}
    {{ json_text_by_key('record', list_first(list_where(json_keys_of('record'), 'k',
        "k = '" ~ name ~ "' or right(k, " ~ (name | length + 1) ~ ") = '/" ~ name ~ "'"))) }}
{%- endmacro %}

{#- A page's URL as DESIGN.md section 6 compares them: without query string, fragment or
    trailing slash (NULL when missing or empty). -#}
{% macro page_url(expr) -%}
    nullif({{ rtrim_chars("split_part(split_part(" ~ expr ~ ", '#', 1), '?', 1)", '/') }}, '')
{%- endmacro %}

{#- A run's setting: the dbt var `name` when given (`--vars`), else the environment variable
    SAYPRO_DBT_<NAME>, which orchestration sets. The variable is read only when models run, never
    while dbt parses: the parsed project then does not depend on it, and orchestration keeps one
    parse for every step and run (orchestration/dbt_runner.py). A changed var makes dbt parse the
    whole project again. -#}
{% macro run_setting(name) -%}
    {%- if not execute -%} {{- return(var(name, none)) -}} {%- endif -%}
    {{- return(var(name, none) or env_var('SAYPRO_DBT_' ~ (name | upper), '') or none) -}}
{%- endmacro %}

{#- The data cut-off: run_setting('as_of') if given, else now. -#}
{% macro as_of() -%}
    {%- set cut_off = run_setting('as_of') -%}
    {%- if cut_off -%} cast('{{ cut_off }}' as {{ type_instant() }}) {%- else -%} now() {%- endif -%}
{%- endmacro %}

{#- Rows of the local period [period_start, period_end) (run settings) when both are set, and of
    the local months listed in run setting `extra_months` (comma-separated YYYY-MM-01): months
    outside the partition whose source rows changed since they were built (late data, or a
    source configured after its history began), which orchestration adds so that they catch up
    in the same run. -#}
{% macro period_filter(date_column) -%}
    {%- set period_start, period_end = run_setting('period_start'), run_setting('period_end') -%}
    {%- set extra_months = [] -%}
    {%- for month in (run_setting('extra_months') or '').split(',') if month | trim -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-01', month | trim) -%}
            {{ exceptions.raise_compiler_error("extra_months: " ~ month ~ " is not the first day of a month (YYYY-MM-01)") }}
        {%- endif -%}
        {%- do extra_months.append("'" ~ (month | trim) ~ "'::date") -%}
    {%- endfor -%}
    {%- if period_start and period_end -%}
        (({{ date_column }} >= '{{ period_start }}'::date
          and {{ date_column }} < '{{ period_end }}'::date)
        {%- if extra_months %}
         or date_trunc('month', {{ date_column }})::date in ({{ extra_months | join(', ') }})
        {%- endif -%})
    {%- else -%} true {%- endif -%}
{%- endmacro %}
