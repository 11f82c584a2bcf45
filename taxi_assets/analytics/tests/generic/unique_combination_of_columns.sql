{#- dbt_utils.unique_combination_of_columns, written here: dbt's hub is not reachable from where
    this project is built, and the course's mart tests with it. Fails with each combination that
    occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') -%}
    select {{ columns }}, count(*) as n_records
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
