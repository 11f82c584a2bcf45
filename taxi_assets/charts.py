"""The revenue chart: months' trips and revenue by borough and service, drawn as a PNG.

Pure pandas and matplotlib (its Agg backend: no display, no network), so it is tested directly.
"""

from __future__ import annotations

import io

import pandas as pd

MEASURES = {"total_monthly_trips": "Trips", "revenue_monthly_total_amount": "Revenue (USD)"}


def by_borough(revenue: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """fct_monthly_zone_revenue summed per month, service and pickup borough (zones by name: the
    mart keeps the zone's name only; a name the lookup lacks is 'Unknown').
    """
    boroughs = zones.drop_duplicates("zone").set_index("zone")["borough"]
    rows = revenue.assign(
        borough=revenue["pickup_zone"].map(boroughs).fillna("Unknown"),
        month=pd.to_datetime(revenue["revenue_month"]).dt.strftime("%Y-%m"),
    )
    return (
        rows.groupby(["month", "service_type", "borough"])[list(MEASURES)]
        .sum()
        .astype("float64")
        .reset_index()
    )


def revenue_chart(summed: pd.DataFrame) -> bytes:
    """A PNG: one column per service, trips above revenue, a bar per month stacked by borough."""
    # Imported here, not when the code location loads: only this asset's runs draw.
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: draw to a file, never to a window
    import matplotlib.pyplot as plt

    services = sorted(summed["service_type"].unique())
    figure, axes = plt.subplots(
        len(MEASURES), len(services), figsize=(5 * len(services), 6), squeeze=False, sharex="col"
    )
    for col, service in enumerate(services):
        of_service = summed[summed["service_type"] == service]
        for row, (measure, label) in enumerate(MEASURES.items()):
            table = of_service.pivot_table(index="month", columns="borough", values=measure, aggfunc="sum")
            table.plot.bar(stacked=True, ax=axes[row][col], legend=row == 0 and col == len(services) - 1)
            axes[row][col].set_title(f"{service}: {label.lower()} per month")
            axes[row][col].set_ylabel(label)
    if axes[0][-1].get_legend():
        axes[0][-1].legend(
            title="Pickup borough", fontsize="small", bbox_to_anchor=(1.02, 1), loc="upper left"
        )
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=80)
    plt.close(figure)
    return out.getvalue()
