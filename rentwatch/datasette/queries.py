"""SQL of the Datasette site: canned queries and the dashboards' chart queries.

Every query reads only the public tables (buildings, building_daily, district_daily,
listings, listing_observations, manual_observations). "No data" stays null: a day whose
scrape failed has no units, and the queries never turn that into zero.
"""

from __future__ import annotations

from db.site import AREA_LABEL

#: The building a blank ``:building`` means: 丽晶国际 when it has snapshots, else the
#: building with most snapshot days (db.site.default_building, which the dashboards use).
_DEFAULT_BUILDING = """(
  select b.name from building_daily d join buildings b on b.id = d.building_id
  group by b.id order by b.name = '丽晶国际' desc, count(*) desc, b.name limit 1
)"""

#: One building's days, by its registry name or any of its aliases.
BUILDING_TREND = f"""
select
  d.date,
  b.name as building,
  d.listings,
  d.units,
  d.units_low,
  d.units_high,
  d.total_units,
  round(d.vacancy_rate * 100, 1) as vacancy_pct,
  d.median_rent,
  d.p25_rent,
  d.p75_rent,
  d.median_rent_per_m2,
  d.new_units,
  d.gone_units,
  d.price_cuts,
  (select m.vacant from manual_observations m
    where m.building_id = d.building_id and m.date = d.date
    order by m.id desc limit 1) as notice_board_vacant
from building_daily d
join buildings b on b.id = d.building_id
where d.building_id in (
  select id from buildings where name = coalesce(nullif(trim(:building), ''), {_DEFAULT_BUILDING})
  union
  select building_id from building_aliases where alias = :building
)
order by d.date
"""

#: Buildings whose estimated empty units rose most between the latest snapshot and
#: :days days before it (each building's latest snapshot on or before that day, or its
#: first one when it was watched for less); a blank, zero or unreadable :days means a week.
VACANCY_RISE = """
with latest as (select max(date) as day from building_daily),
target as (
  select date(day, '-' || coalesce(nullif(abs(cast(:days as integer)), 0), 7) || ' days') as day
  from latest
),
now as (
  select d.* from building_daily d, latest where d.date = latest.day and d.units is not null
),
before as (
  select d.* from building_daily d
  where d.units is not null and d.date = coalesce(
    (select max(x.date) from building_daily x, target
      where x.building_id = d.building_id and x.units is not null and x.date <= target.day),
    (select min(x.date) from building_daily x
      where x.building_id = d.building_id and x.units is not null)
  )
)
select
  b.name as building,
  b.district,
  b.subdistrict,
  before.date as date_before,
  before.units as units_before,
  now.date as date_now,
  now.units as units_now,
  now.units - before.units as rise,
  round(now.vacancy_rate * 100, 1) as vacancy_pct_now,
  round((now.vacancy_rate - before.vacancy_rate) * 100, 1) as vacancy_pct_rise,
  now.median_rent as median_rent_now
from now
join before on before.building_id = now.building_id and before.date < now.date
join buildings b on b.id = now.building_id
order by rise desc, vacancy_pct_rise desc, b.name
limit 100
"""

#: Live listings whose asking rent fell most from the highest rent they were seen at.
RENT_CUTS = """
with latest as (select max(date) as day from listing_observations),
last_obs as (
  select o.listing_id, o.rent, o.date from listing_observations o, latest
  where o.date = latest.day and o.rent is not null
),
peak as (
  select o.listing_id, max(o.rent) as rent from listing_observations o
  join last_obs l on l.listing_id = o.listing_id
  where o.date < l.date and o.rent is not null
  group by o.listing_id
)
select
  l.id as listing,
  b.name as building,
  l.title,
  l.source,
  peak.rent as rent_before,
  last_obs.rent as rent_now,
  peak.rent - last_obs.rent as cut,
  round((peak.rent - last_obs.rent) * 100.0 / peak.rent, 1) as cut_pct,
  l.area,
  l.layout,
  l.first_seen,
  last_obs.date as seen_on,
  l.url
from last_obs
join peak on peak.listing_id = last_obs.listing_id
join listings l on l.id = last_obs.listing_id
left join buildings b on b.id = l.building_id
where last_obs.rent < peak.rent
order by cut desc, cut_pct desc, l.id
limit 200
"""

#: 小区 names from listings that matched no registry building (created 'unverified'):
#: candidates for an alias in the registry CSV.
UNMATCHED_BUILDINGS = """
select
  b.id,
  b.name,
  b.city,
  b.district,
  b.subdistrict,
  count(l.id) as listings,
  group_concat(distinct l.source) as sources,
  min(l.first_seen) as first_seen,
  max(l.last_seen) as last_seen
from buildings b
left join listings l on l.building_id = b.id
where b.status = 'unverified'
group by b.id
order by listings desc, b.name
"""

#: Search that works for Chinese, over the title and where the flat is (小区 as the site
#: writes it, 板块, district): the trigram index answers 3+ characters; it cannot see shorter
#: strings, so 1-2 characters ("九堡") fall back to a LIKE scan.
_LIKE_Q = "'%' || replace(replace(replace(:q, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"
SEARCH_LISTINGS = f"""
with hits as (
  select rowid as id from listings_fts
  where length(:q) >= 3 and listings_fts match '"' || replace(:q, '"', '""') || '"'
  union
  select id from listings
  where length(:q) between 1 and 2 and (
    title like {_LIKE_Q} escape '\\'
    or community like {_LIKE_Q} escape '\\'
    or subdistrict like {_LIKE_Q} escape '\\'
    or district like {_LIKE_Q} escape '\\'
  )
)
select
  l.id,
  l.title,
  b.name as building,
  l.source,
  l.listing_id,
  l.rent,
  l.area,
  l.layout,
  l.community,
  l.district,
  l.subdistrict,
  l.first_seen,
  l.last_seen,
  l.url
from hits
join listings l on l.id = hits.id
left join buildings b on b.id = l.building_id
order by l.last_seen desc, l.id
limit 500
"""

CANNED_QUERIES: dict[str, dict[str, object]] = {
    "building_trend": {
        "title": "One building, day by day",
        "description": (
            "Ads, estimated empty units (with their 90 % interval), vacancy and asking rents of "
            "one building per day, by its name or any alias; the notice-board count where "
            "someone counted. Blank means no data that day, not zero. Leave the building "
            "blank for 丽晶国际, or where it is not watched the building with most days."
        ),
        "sql": BUILDING_TREND,
        "params": ["building"],
    },
    "vacancy_rise": {
        "title": "Largest rise in empty units",
        "description": (
            "Buildings whose estimated empty units rose most between the latest snapshot and "
            ":days days before it (the closest earlier snapshot when that day is missing, the "
            "first one when the building was watched for less). Leave days blank for a week."
        ),
        "sql": VACANCY_RISE,
        "params": ["days"],
    },
    "rent_cuts": {
        "title": "Largest rent cuts",
        "description": (
            "Listings seen on the latest day whose asking rent (元/月) is below the highest "
            "rent they were seen at before."
        ),
        "sql": RENT_CUTS,
    },
    "unmatched_buildings": {
        "title": "Unmatched building names",
        "description": (
            "小区 names from listings that matched no building of the registry, with how many "
            "listings use them. Add them as aliases in the registry CSV, or as new buildings."
        ),
        "sql": UNMATCHED_BUILDINGS,
    },
    "search_listings": {
        "title": "Search listings",
        "description": (
            "Finds listings whose title, 小区, 板块 or district contains the text, e.g. 丽晶国际 "
            "or 九堡. Three or more characters use the full-text index; one or two characters "
            "scan the listings."
        ),
        "sql": SEARCH_LISTINGS,
        "params": ["q"],
    },
}


# -- dashboard charts ----------------------------------------------------------------------
# ``[[ ... :name ]]`` is datasette-dashboards' optional clause: kept when the filter is set.

#: What fills an empty chart, said in the chart itself.
HINT_NO_SNAPSHOTS = (
    "no snapshots yet: collect pages (rentwatch run --once, or rentwatch ingest), "
    "then rentwatch snapshot"
)
HINT_NO_COUNTS = "no counts yet: rentwatch observe add BUILDING --date YYYY-MM-DD --vacant N"


def with_hint(sql: str, hint: str, *, unless: str = "1 = 1") -> str:
    """``sql`` plus one row with only ``hint`` set when no row of it satisfies ``unless``: the
    chart's text layer shows that row, so an empty chart says what would fill it."""
    quoted = hint.replace("'", "''")
    return f"""
with chart as ({sql})
select chart.*, null as hint from chart
union all
select chart.*, '{quoted}' as hint from (select 1) left join chart on 0
where not exists (select 1 from chart where {unless})
"""


BUILDING_NAMES = """
select b.name from buildings b
where exists (select 1 from building_daily d where d.building_id = b.id)
order by b.name
"""

BUILDING_DAYS = """
select d.date, d.units, d.units_low, d.units_high, d.listings, d.median_rent,
  d.p25_rent, d.p75_rent, d.median_rent_per_m2
from building_daily d join buildings b on b.id = d.building_id
where 1 = 1 [[ and b.name = :building ]]
order by d.date
"""

BUILDING_NOTICE_BOARD = """
select d.date, 'estimate (listings)' as series, d.units as count
from building_daily d join buildings b on b.id = d.building_id
where d.units is not null [[ and b.name = :building ]]
union all
select d.date, 'experimental model, ads alone' as series, d.units_model as count
from building_daily d join buildings b on b.id = d.building_id
where d.calibration is not null [[ and b.name = :building ]]
union all
select d.date, 'experimental model, calibrated by the count' as series,
  d.units_model_calibrated as count
from building_daily d join buildings b on b.id = d.building_id
where d.units_model_calibrated is not null [[ and b.name = :building ]]
union all
select m.date, 'notice board (counted)' as series, m.vacant as count
from manual_observations m join buildings b on b.id = m.building_id
where m.vacant is not null [[ and b.name = :building ]]
order by 1, 2
"""

AREA_NAMES = f"""
select distinct {AREA_LABEL} as area from district_daily order by area
"""

AREA_DAYS = f"""
select date, units, units_low, units_high, listings, buildings, median_rent, p25_rent,
  p75_rent, median_rent_per_m2
from district_daily
where 1 = 1 [[ and {AREA_LABEL} = :area ]]
order by date
"""

NOTICE_BOARD_ALL = """
select d.date, b.name as building, 'estimate (listings)' as series, d.units as count
from building_daily d join buildings b on b.id = d.building_id
where d.units is not null
  and d.building_id in (select building_id from manual_observations)
union all
select m.date, b.name, 'notice board (counted)', m.vacant
from manual_observations m join buildings b on b.id = m.building_id
where m.vacant is not null
order by 2, 1, 3
"""
