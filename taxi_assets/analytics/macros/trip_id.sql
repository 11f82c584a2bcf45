{#- A trip's surrogate key: the md5 of its columns' text joined by '-', a missing value written
    as dbt_utils writes it, so the ids match dbt_utils.generate_surrogate_key's (the course's);
    dbt's hub packages are not used here. -#}
{% macro trip_id(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ dbt.safe_cast(column, api.Column.translate_type("string")) ~ ", '_dbt_utils_surrogate_key_null_')") -%}
        {%- if not loop.last %}{% do parts.append("'-'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
