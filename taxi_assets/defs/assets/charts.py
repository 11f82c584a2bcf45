"""A chart of the revenue mart, shown with its materialisation (the course ends its module with a
dashboard; Dagster University's dbt course with a chart asset).
"""

import base64

import dagster as dg
import pyarrow as pa

from taxi_assets.charts import by_borough, revenue_chart
from taxi_assets.keys import ANALYTICS_GROUP

REVENUE_KEY = dg.AssetKey("fct_monthly_zone_revenue")
CHART_KEY = dg.AssetKey("monthly_revenue_chart")
ZONES_MODEL_KEY = dg.AssetKey("dim_zones")

# Dagster's `eager`, but drawn once every input holds something, not only once no month of the mart
# is missing: the mart's months reach back to the yellow cabs' first (2009-01), so with `eager` a
# history that starts later (the course's 2019-01) would never be drawn by automation.
FOLLOWS_THE_MART = dg.AutomationCondition.eager().replace(
    "any_deps_missing",
    ~dg.AutomationCondition.all_deps_match(~dg.AutomationCondition.missing()).with_label(
        "every_dep_holds_something"
    ),
)


@dg.asset(
    key=CHART_KEY,
    group_name=ANALYTICS_GROUP,
    description="The months' trips and revenue by pickup borough and service (fct_monthly_zone_revenue), "
    "as an image in the materialisation's metadata.",
    # Read through the models' IO manager, from the warehouse the loader chose.
    ins={"revenue": dg.AssetIn(REVENUE_KEY), "zones": dg.AssetIn(ZONES_MODEL_KEY)},
    kinds={"matplotlib"},
    # What the chart draws (its preview's columns).
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn("month", "string", description="The pickups' month (2021-01)."),
                dg.TableColumn("service_type", "string", description="Green or Yellow."),
                dg.TableColumn("borough", "string", description="The pickup zone's borough."),
                dg.TableColumn("total_monthly_trips", "float", description="Trips."),
                dg.TableColumn(
                    "revenue_monthly_total_amount", "float", description="Sum of total_amount, USD."
                ),
            ]
        )
    },
    # Drawn again whenever the mart changes (each month's analytics run).
    automation_condition=FOLLOWS_THE_MART,
    pool="warehouse",
)
def monthly_revenue_chart(revenue: pa.Table, zones: pa.Table) -> dg.MaterializeResult:
    summed = by_borough(revenue.to_pandas(), zones.to_pandas())
    png = base64.b64encode(revenue_chart(summed)).decode()
    return dg.MaterializeResult(
        metadata={
            "chart": dg.MetadataValue.md(
                f"![Trips and revenue by borough and service](data:image/png;base64,{png})"
            ),
            "months": summed["month"].nunique(),
            "dagster/row_count": len(summed),
            "preview": dg.MetadataValue.md(summed.tail(20).to_markdown(index=False)),
        }
    )
