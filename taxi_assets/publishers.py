"""Who publishes the monthly trip files, where, and which months each one has.

Two publishers, chosen once per environment by ``TAXI_PUBLISHER`` (default ``tlc``):
- ``tlc``: the NYC Taxi & Limousine Commission's own parquet files, every month since each
  service began, a month published about two months after it ends;
- ``mirror``: the DataTalksClub copies the course downloads, CSV.gz of 2019-01 … 2021-07.

The publisher decides the services and months the partitions list and the URL the source fetches;
``TAXI_SOURCE_URL_TEMPLATE`` may point the fetching elsewhere (a local copy, a file:// folder)
while the months stay the publisher's.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pandas as pd

from taxi_assets.constants import SERVICES

PUBLISHER_SETTING = "TAXI_PUBLISHER"
TLC = "tlc"
MIRROR = "mirror"
DEFAULT_PUBLISHER = TLC

# A month is on the TLC's site once this many whole months have passed since it ended
# ("published monthly, with two months delay"): on 15 November, August is the newest month.
TLC_LAG_MONTHS = 2


class PublisherError(ValueError):
    """A publisher setting the project cannot use; the message names it."""


@dataclass(frozen=True)
class Publisher:
    """Where one publisher's monthly files are, in which format, and its first and last months."""

    name: str
    url_template: str
    first_months: dict[str, str]
    # None: the newest month follows today's date by TLC_LAG_MONTHS; else the publisher stopped.
    last_month: str | None
    description: str

    @property
    def file_name(self) -> str:
        """The file name part of the URL template: ``{service}_tripdata_{month}.parquet``."""
        return self.url_template.rsplit("/", 1)[-1]

    @property
    def services(self) -> tuple[str, ...]:
        """The services this publisher has files of, in the project's order."""
        return tuple(service for service in SERVICES if service in self.first_months)

    def first_month(self, service: str) -> str:
        try:
            return self.first_months[service]
        except KeyError:
            raise PublisherError(
                f"{PUBLISHER_SETTING} {self.name!r} publishes no {service} trips (only "
                f"{', '.join(self.services)})"
            ) from None

    def newest_month(self, today: dt.date | None = None) -> str:
        """The last month this publisher has (for the TLC: as of ``today``)."""
        if self.last_month is not None:
            return self.last_month
        today = today or dt.datetime.now(dt.UTC).date()
        return (pd.Period(today, "M") - 1 - TLC_LAG_MONTHS).strftime("%Y-%m")


PUBLISHERS: dict[str, Publisher] = {
    p.name: p
    for p in (
        Publisher(
            name=TLC,
            url_template="https://d37ci6vzurychx.cloudfront.net/trip-data/{service}_tripdata_{month}.parquet",
            # Yellow files exist from 2009-01; 2009-2010 use an older layout (coordinates instead
            # of taxi zones, words for vendors and payments, times as text), read into the same
            # layout, each coordinate placed in its taxi zone (schema.py, placement.py).
            # Green taxis began street hails in August 2013; FHV trip records start in 2015;
            # high-volume FHV in February 2019, when Local Law 149 of 2018 took effect (the TLC's
            # data dictionary of high-volume FHV trip records).
            first_months={"yellow": "2009-01", "green": "2013-08", "fhv": "2015-01", "fhvhv": "2019-02"},
            last_month=None,
            description="the TLC's own parquet files (d37ci6vzurychx.cloudfront.net), current",
        ),
        Publisher(
            name=MIRROR,
            url_template="https://github.com/DataTalksClub/nyc-tlc-data/releases/download/"
            "{service}/{service}_tripdata_{month}.csv.gz",
            # The course's mirror has no high-volume FHV files.
            first_months={"yellow": "2019-01", "green": "2019-01", "fhv": "2019-01"},
            last_month="2021-07",
            description="the DataTalksClub course mirror (CSV.gz, 2019-01 … 2021-07)",
        ),
    )
}


def configured_services() -> tuple[str, ...]:
    """The services of the publisher this environment names: those that get assets, jobs, sensors."""
    return configured_publisher().services


def configured_publisher() -> Publisher:
    """The publisher this environment names in TAXI_PUBLISHER (default: the TLC)."""
    name = os.environ.get(PUBLISHER_SETTING, "").strip().lower() or DEFAULT_PUBLISHER
    try:
        return PUBLISHERS[name]
    except KeyError:
        raise PublisherError(
            f"{PUBLISHER_SETTING} {name!r} is not one of {', '.join(PUBLISHERS)}; for another URL "
            "keep a publisher's months and set TAXI_SOURCE_URL_TEMPLATE"
        ) from None
