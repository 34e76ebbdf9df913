"""A deterministic simulated rental market of Hangzhou buildings, day by day.

It is as hard as the real problem (issue 5): towers where every floor repeats a few
plans, so many empty flats share layout, area and orientation; each empty flat listed
by 1–4 agencies a day or two apart at prices ±3 % apart, areas rounded differently;
ads that outlive the letting; bait prices; reposts under new ids; building names
spelled several ways and some buildings missing from the registry; and more ads
city-wide than the site's 100-page list limit shows. With ``cut_chance`` (off by
default) landlords of flats long on offer cut their price, and each agency follows a day
or two apart.

Every generator parameter is declared in one ``MarketSpec``; its defaults are the
demo's market, and ``bench/eval_zoo.py`` draws a zoo of other markets from wide ranges of
it (docs/zoo.md). Everything follows from the spec and the seed: the same pair gives the
same market, ads and truth.
"""

from __future__ import annotations

import random
import statistics
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from scrapers.lianjia import house_code_at
from scrapers.record import SHANGHAI


@dataclass(slots=True)
class Plan:
    layout: str  # "2室1厅1卫"
    area: float
    orientation: str
    rent: float  # typical asking rent, 元/月


@dataclass(slots=True)
class BuildingSpec:
    name: str
    district: str
    district_slug: str
    subdistrict: str
    subdistrict_slug: str
    resblock_id: str
    floors: int
    flats_per_floor: int
    plans: list[Plan]
    #: spellings agencies use; the first is the registry name
    spellings: list[str]
    in_registry: bool = True
    total_units_known: bool = True
    aliases: list[str] = field(default_factory=list)
    #: daily move-out probability of a let flat: (first day, last day) of the run
    move_out: tuple[float, float] = (0.0025, 0.0025)
    initial_vacancy: float = 0.07
    agencies: list[str] = field(default_factory=list)

    @property
    def total_units(self) -> int:
        return self.floors * self.flats_per_floor


@dataclass(slots=True, eq=False)
class Flat:
    building: BuildingSpec
    number: str
    floor: int
    plan: Plan
    rent: float
    vacant_since: int | None = None  # day index, None when let
    let_on: int | None = None

    @property
    def band(self) -> str:
        third = self.building.floors / 3
        return (
            "低楼层" if self.floor <= third else "中楼层" if self.floor <= 2 * third else "高楼层"
        )


@dataclass(slots=True, eq=False)
class SimAd:
    house_code: str
    flat: Flat | None  # None for a shared-room ad
    agency: str
    spelling: str
    rent: float
    area: float
    start: int  # first day index shown
    end: int | None = None  # last day index shown (None: open)
    tenure: str = "整租"
    layout: str = ""
    orientation: str = ""
    band: str = ""
    promoted: bool = False
    bait: bool = False
    #: the card shows only the agency's brand ("链家"), not its store
    brand_only: bool = False

    @property
    def card_brand(self) -> str:
        """What the card's brand line shows: the store, or only its brand."""
        return self.agency.split("·")[0] if self.brand_only else self.agency

    def live(self, day: int) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


#: Days the market lives before watching begins (day index 0), unwatched.
WARMUP_DAYS = 30


#: A landlord cuts the price only of a flat on offer this many days or more.
CUT_AFTER_DAYS = 14


@dataclass(slots=True)
class Truth:
    vacant: int
    median_rent: float | None
    #: empty flats whose landlord cut the asking price that day
    price_cuts: int = 0


AGENCY_BRANDS = (
    "链家",
    "我爱我家",
    "德佑",
    "21世纪不动产",
    "中原地产",
    "麦田房产",
    "易居",
    "太平洋房屋",
)

#: Brands a zoo market may draw beyond AGENCY_BRANDS (up to 15 in all).
MORE_BRANDS = ("贝壳优选", "房友", "满堂红", "思源地产", "住商不动产", "Q房网", "美联物业")

_BRANCHES = ("东", "西", "南", "北", "中心")
_MORE_BRANCHES = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")

_STUDIO = Plan("1室0厅1卫", 35.0, "南", 2300)
_ONE = Plan("1室1厅1卫", 45.0, "北", 2800)
_TWO = Plan("2室1厅1卫", 53.0, "南", 3600)
_BIG = Plan("2室2厅1卫", 70.0, "南 北", 4500)
_THREE = Plan("3室2厅2卫", 98.0, "南 北", 6200)

#: Plans a tower floor may repeat: the five the city is built of, and five look-alikes.
TOWER_PLANS = (
    _STUDIO,
    _ONE,
    _TWO,
    _BIG,
    _THREE,
    Plan("1室0厅1卫", 30.0, "北", 2100),
    Plan("1室1厅1卫", 50.0, "南", 3000),
    Plan("2室1厅1卫", 60.0, "北", 3700),
    Plan("2室2厅1卫", 80.0, "南", 4900),
    Plan("3室1厅1卫", 88.0, "南 北", 5600),
)

#: The building whose vacancy rises over the run (its move-outs quicken day by day).
EMPTYING = "丽晶国际"

#: The buildings that become towers of ``MarketSpec.tower_flats`` flats.
TOWERS = (EMPTYING, "星耀城", "世纪城名座")


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Every parameter of the simulated market's generator. The defaults are the demo's
    market (and ``bench/eval_sim.py``'s); docs/zoo.md gives each field's range in the zoo.

    Weights (``ads_per_flat``, ``lag_weights``, ``brand_weights``) need not sum to 1.
    """

    # -- the city
    #: filler buildings, as a multiple of 90 (1.0: about 3,500 ads a day)
    scale: float = 1.0
    #: 0: the named buildings keep their sizes (丽晶国际 308 flats); else 丽晶国际, 星耀城
    #: and 世纪城名座 become towers of this many flats over ``tower_floors`` floors
    tower_flats: int = 0
    tower_floors: int = 40
    #: plans every tower floor repeats (1–10, drawn from TOWER_PLANS)
    tower_plans: int = 4
    #: floors and flats per floor a filler building is drawn from
    filler_floors: tuple[int, ...] = (11, 18, 26)
    filler_flats_per_floor: tuple[int, ...] = (8, 10, 12)
    #: share of filler buildings whose flat count the registry knows
    registry_known: float = 0.8

    # -- agencies
    brands: tuple[str, ...] = AGENCY_BRANDS
    #: None: each building's stores are distinct brands, drawn alike; else the brand of each
    #: store is drawn by these weights (one per brand), so a brand can hold several stores
    #: of a building and a share of the ads near its weight
    brand_weights: tuple[float, ...] | None = None
    #: agency stores advertising in each building (at least the most ads a flat can get)
    stores_per_building: int = 6
    #: chance that an ad by the first brand shows only the brand on its card, no store
    brand_only: float = 0.0

    # -- flats and rents
    #: landlords' asking rents around their plan's typical rent (sd of a normal factor)
    flat_rent_sigma: float = 0.07
    #: rent per floor up, as a share
    floor_premium: float = 0.004

    # -- vacancy
    initial_vacancy: float = 0.07
    #: daily move-out chance of a let flat
    move_out: float = 0.0025
    #: 丽晶国际, the tower that empties: its vacancy at the start, and its move-out chance
    #: on the first and the last day of the run (linear between)
    emptying_initial_vacancy: float = 0.06
    emptying_move_out: tuple[float, float] = (0.004, 0.02)
    #: daily chance an empty flat is let
    let_rate: float = 1 / 32
    #: days the market lives unwatched before the first day
    warmup: int = WARMUP_DAYS
    #: the warm-up's first vacancies have stood empty up to this many days more
    vacant_before: int = 25

    # -- ads
    #: weights of 1, 2, … agencies advertising an empty flat
    ads_per_flat: tuple[float, ...] = (20, 30, 30, 20)
    #: weights of an agency listing the flat 0, 1, 2, … days after it empties
    lag_weights: tuple[float, ...] = (50, 30, 20)
    #: each ad's rent is the landlord's times a uniform factor 1 ± this
    agency_jitter: float = 0.03
    #: steps ads' rents are rounded to; each store keeps one
    rent_steps: tuple[int, ...] = (10,)
    #: ads' areas are the plan's ± this, rounded to 1 ㎡
    area_jitter: float = 0.6
    promoted: float = 0.03
    #: chance an empty flat also gets a bait ad at ``bait_factor`` of its rent, put up
    #: 0–``bait_delay`` days after it empties, shown for ``bait_days`` days
    bait: float = 0.06
    bait_factor: tuple[float, float] = (0.25, 0.38)
    bait_delay: int = 3
    bait_days: tuple[int, int] = (1, 5)
    #: daily chance an agency takes an ad down and puts the flat up again under a new id,
    #: a day in ``repost_gap`` later
    repost_rate: float = 0.02
    repost_gap: tuple[int, ...] = (0, 1)
    #: chance an ad outlives its flat's letting; it is last shown on the day before the
    #: letting plus a number of days drawn from ``linger_days`` (inclusive)
    linger: float = 0.15
    linger_days: tuple[int, int] = (2, 8)
    #: otherwise the ad is last shown on the day before the letting plus one of these
    takedown_days: tuple[int, ...] = (0, 0, 1)
    #: daily chance of a shared-room ad in each of a few filler buildings
    room_ads: float = 0.5

    # -- landlords' price cuts
    #: each day, the chance that the landlord of a flat on offer for ``cut_after`` days or
    #: more cuts its price by a share in ``cut_size``; each agency follows ``cut_follow``
    #: days later (0: prices never change)
    cut_chance: float = 0.0
    cut_after: int = CUT_AFTER_DAYS
    cut_size: tuple[float, float] = (0.03, 0.10)
    cut_follow: tuple[int, ...] = (0, 0, 1, 2)

    def __post_init__(self) -> None:
        if len(self.ads_per_flat) > self.stores_per_building:
            raise ValueError(
                f"ads_per_flat goes to {len(self.ads_per_flat)} ads but a building has only "
                f"{self.stores_per_building} stores"
            )
        if self.brand_weights is None:
            if self.stores_per_building > len(self.brands):
                raise ValueError("stores_per_building exceeds the brands (give brand_weights)")
        elif len(self.brand_weights) != len(self.brands):
            raise ValueError("brand_weights needs one weight per brand")
        if self.tower_flats and not 1 <= self.tower_plans <= len(TOWER_PLANS):
            raise ValueError(f"tower_plans must be 1 to {len(TOWER_PLANS)}")

    def mean_ads_per_flat(self) -> float:
        total = sum(self.ads_per_flat)
        return sum(n * w for n, w in enumerate(self.ads_per_flat, 1)) / total

    def brand_share(self) -> float:
        """The first brand's expected share of the stores (and so of the ads)."""
        if self.brand_weights is None:
            return 1 / len(self.brands)
        return self.brand_weights[0] / sum(self.brand_weights)


def _agencies(rng: random.Random, subdistrict: str, spec: MarketSpec) -> list[str]:
    if spec.brand_weights is None:
        brands = rng.sample(spec.brands, spec.stores_per_building)
        return [f"{b}·{subdistrict}{rng.choice(list(_BRANCHES))}店" for b in brands]
    drawn = rng.choices(spec.brands, weights=spec.brand_weights, k=spec.stores_per_building)
    # Stores of one brand are told apart by their branch (one advertiser each); brands in
    # the order drawn, not a set's, whose order changes with the string-hash seed.
    branches = {
        b: rng.sample(_BRANCHES + _MORE_BRANCHES, drawn.count(b)) for b in dict.fromkeys(drawn)
    }
    return [f"{b}·{subdistrict}{branches[b].pop()}店" for b in drawn]


def hangzhou(
    scale: float = 1.0, seed: int = 7, spec: MarketSpec | None = None
) -> list[BuildingSpec]:
    """The simulated buildings. ``scale`` multiplies the filler buildings that make the
    city's ad count exceed the 100-page list limit (1.0: about 3,500 ads a day); ``spec``,
    when given, sets every other parameter of the city (and its ``scale`` wins)."""
    spec = replace(spec, scale=scale) if spec is not None else MarketSpec(scale=scale)
    rng = random.Random(seed)
    studio, one, two, big, three = _STUDIO, _ONE, _TWO, _BIG, _THREE
    buildings = [
        BuildingSpec(
            "丽晶国际",
            "江干",
            "jianggan",
            "九堡",
            "jiubao",
            "1811000000101",
            28,
            11,
            [studio, one, two, big],
            ["丽晶国际", "丽晶国际公寓", "杭州丽晶国际(九堡)", "丽晶国际 公寓", "丽晶国际（九堡）"],
            aliases=["丽晶国际公寓"],
            move_out=spec.emptying_move_out,
            initial_vacancy=spec.emptying_initial_vacancy,
        ),
        BuildingSpec(
            "星耀城",
            "滨江",
            "binjiang",
            "滨江区政府",
            "binjiangquzhengfu",
            "1811000000201",
            32,
            8,
            [one, two, big],
            ["星耀城", "星耀城公寓", "滨江星耀城", "杭州星耀城【一期】"],
        ),
        BuildingSpec(
            "东方郡",
            "滨江",
            "binjiang",
            "长河",
            "changhe",
            "1811000000202",
            18,
            8,
            [two, big, three],
            ["东方郡", "东方郡小区", "东方郡(滨江)"],
        ),
        BuildingSpec(
            "江南之星",
            "滨江",
            "binjiang",
            "江南",
            "jiangnan",
            "1811000000203",
            24,
            6,
            [studio, one],
            ["江南之星", "江南之星大厦", "江南之星（滨江）"],
        ),
        BuildingSpec(
            "世纪城名座",
            "萧山",
            "xiaoshan",
            "钱江世纪城",
            "qianjiangshijicheng",
            "1811000000301",
            30,
            9,
            [studio, one, two],
            ["世纪城名座", "世纪城·名座", "钱江世纪城名座", "世纪城名座公寓"],
            aliases=["钱江世纪城名座"],
        ),
        BuildingSpec(
            "钱江世纪公寓",
            "萧山",
            "xiaoshan",
            "钱江世纪城",
            "qianjiangshijicheng",
            "1811000000302",
            26,
            8,
            [one, two, big],
            ["钱江世纪公寓", "钱江世纪", "杭州钱江世纪公寓"],
            total_units_known=False,
        ),
        BuildingSpec(
            "文鼎苑",
            "西湖",
            "xihu",
            "文三西路",
            "wensanxilu",
            "1811000000401",
            12,
            8,
            [two, big, three],
            ["文鼎苑", "文鼎苑小区"],
        ),
        BuildingSpec(
            "九堡新家园",
            "江干",
            "jianggan",
            "九堡",
            "jiubao",
            "1811000000102",
            18,
            10,
            [one, two, big],
            ["九堡新家园"],
            in_registry=False,
        ),
        BuildingSpec(
            "滨江天街公寓",
            "滨江",
            "binjiang",
            "江南",
            "jiangnan",
            "1811000000204",
            20,
            10,
            [studio, one],
            ["滨江天街公寓"],
            in_registry=False,
        ),
    ]
    fillers = [
        ("江干", "jianggan", "下沙", "xiasha"),
        ("滨江", "binjiang", "西兴", "xixing"),
        ("萧山", "xiaoshan", "市心", "shixin"),
        ("西湖", "xihu", "翠苑", "cuiyuan"),
        ("拱墅", "gongshu", "大关", "daguan"),
        ("余杭", "yuhang", "未来科技城", "weilaikejicheng"),
    ]
    n_fillers = int(round(90 * spec.scale))
    stems = "锦绣阳光金色钱塘云栖翠湖蓝庭春晓银泰望江枫丹紫金和园中豪泊林"
    for i in range(n_fillers):
        district, slug, sub, sub_slug = fillers[i % len(fillers)]
        stem = stems[(2 * i) % len(stems)] + stems[(2 * i + 7) % len(stems)]
        name = f"{stem}{sub}{i + 1}号苑"
        plans = rng.sample([studio, one, two, big, three], 3)
        buildings.append(
            BuildingSpec(
                name,
                district,
                slug,
                sub,
                sub_slug,
                f"18110000{1000 + i}",
                rng.choice(spec.filler_floors),
                rng.choice(spec.filler_flats_per_floor),
                plans,
                [name, f"{name}小区", f"杭州{name}"],
                total_units_known=rng.random() < spec.registry_known,
            )
        )
    for b in buildings:
        if b.name != EMPTYING:
            b.move_out = (spec.move_out, spec.move_out)
            b.initial_vacancy = spec.initial_vacancy
    if spec.tower_flats:
        _make_towers(buildings, spec, random.Random(seed * 7919 + 2))
    for b in buildings:
        b.agencies = _agencies(rng, b.subdistrict, spec)
    return buildings


def _make_towers(buildings: list[BuildingSpec], spec: MarketSpec, rng: random.Random) -> None:
    """Turn TOWERS into towers of ``spec.tower_flats`` flats, each floor repeating
    ``spec.tower_plans`` plans (its own random stream: the rest of the city is unchanged)."""
    per_floor = max(1, round(spec.tower_flats / spec.tower_floors))
    for b in buildings:
        if b.name in TOWERS:
            b.floors, b.flats_per_floor = spec.tower_floors, per_floor
            b.plans = sorted(rng.sample(TOWER_PLANS, spec.tower_plans), key=TOWER_PLANS.index)


class Market:
    """The market's state, advanced one day at a time (day index 0 = ``start``)."""

    def __init__(
        self,
        spec: MarketSpec | None = None,
        *,
        seed: int = 7,
        start: str = "2026-10-01",
        days: int = 30,
        **overrides: Any,
    ) -> None:
        """The market of ``spec`` (default: the demo's), with any of its fields replaced by
        ``overrides`` (``scale=0.3``, ``cut_chance=0.04``, ``warmup=0``, …)."""
        spec = replace(spec or MarketSpec(), **overrides)
        self.spec = spec
        self.rng = random.Random(seed)
        self.cut_chance = spec.cut_chance
        # Their own streams, so that a market with cuts, or with cards showing only the
        # brand, is otherwise the same market.
        self._cut_rng = random.Random(seed * 7919 + 1)
        self._card_rng = random.Random(seed * 7919 + 3)
        #: (day index, flat, agency, factor): agencies' price updates still to come
        self._pending_cuts: list[tuple[int, Flat, str, float]] = []
        self._ads_by_flat: dict[int, list[SimAd]] | None = None
        self._cuts_today: dict[str, int] = {}
        self.start = date.fromisoformat(start)
        self.days = days
        self.buildings = hangzhou(spec.scale, seed, spec)
        warmup = spec.warmup
        self.flats: list[Flat] = []
        self.ads: list[SimAd] = []
        self._code = 0
        self.truth: dict[tuple[str, str], Truth] = {}
        #: (building, date) -> id() of the flats truly empty that day (the truth's flats)
        self.empty_flats: dict[tuple[str, str], frozenset[int]] = {}
        self._room_building: dict[str, BuildingSpec] = {}
        #: Every flat ad ever put up, by house code (self.ads forgets old ones): which flat
        #: an ad advertised, for scoring the de-duplication after the run.
        self.ad_by_code: dict[str, SimAd] = {}
        for b in self.buildings:
            for floor in range(1, b.floors + 1):
                for pos in range(b.flats_per_floor):
                    plan = b.plans[pos % len(b.plans)]
                    landlord = self.rng.gauss(1.0, spec.flat_rent_sigma)
                    rent = plan.rent * landlord * (1 + spec.floor_premium * floor)
                    flat = Flat(b, f"{floor}-{pos + 1}", floor, plan, round(rent / 10) * 10)
                    self.flats.append(flat)
        # Vacancies ``warmup`` days before watching begins, with ads already up for some
        # days; then the market lives through the warm-up unwatched, so the first day
        # watched finds what a real site shows: ads reposted under new ids at any earlier
        # date, the lingering ads of flats let just before, flats emptied days ago.
        for flat in self.flats:
            if self.rng.random() < flat.building.initial_vacancy:
                flat.vacant_since = -warmup - self.rng.randint(0, spec.vacant_before)
                self._advertise(flat, flat.vacant_since)
        self.day = -warmup - 1
        while self.day < -1:
            self.advance()

    def date_of(self, index: int) -> str:
        return (self.start + timedelta(days=index)).isoformat()

    def _new_code(self, day: int) -> str:
        """A house code as the site makes them: a time-ordered id of the moment the ad was
        put up (day index ``day``, at a time of day that varies from ad to ad)."""
        self._code += 1
        put_up = datetime.combine(self.start + timedelta(days=day), time(), SHANGHAI)
        put_up += timedelta(seconds=(self._code * 7919) % 86_400)
        return house_code_at("hz", put_up, self._code)

    def _advertise(self, flat: Flat, since: int) -> None:
        rng, spec = self.rng, self.spec
        n = rng.choices(range(1, len(spec.ads_per_flat) + 1), weights=spec.ads_per_flat)[0]
        for agency in rng.sample(flat.building.agencies, n):
            lag = rng.choices(range(len(spec.lag_weights)), weights=spec.lag_weights)[0]
            self.ads.append(self._ad(flat, agency, since + lag))
        if rng.random() < spec.bait:  # a bait ad: a real empty flat at a price no one will get
            agency = rng.choice(flat.building.agencies)
            bait = self._ad(flat, agency, since + rng.randint(0, spec.bait_delay))
            step = self.rent_step(agency)
            bait.rent = round(flat.rent * rng.uniform(*spec.bait_factor) / step) * step
            bait.bait = True
            bait.end = bait.start + rng.randint(*spec.bait_days)
            self.ads.append(bait)

    def rent_step(self, agency: str) -> int:
        """The step an agency store rounds its asking rents to (its own habit, kept)."""
        steps = self.spec.rent_steps
        return steps[0] if len(steps) == 1 else steps[zlib.crc32(agency.encode()) % len(steps)]

    def _ad(self, flat: Flat, agency: str, start: int) -> SimAd:
        rng, spec = self.rng, self.spec
        # Each agency sticks to its own spelling of a building's name.
        spelling_rng = random.Random(zlib.crc32(f"{agency}|{flat.building.name}".encode()))
        spelling = spelling_rng.choice(flat.building.spellings)
        step, jitter, area = self.rent_step(agency), spec.agency_jitter, spec.area_jitter
        ad = SimAd(
            house_code=self._new_code(start),
            flat=flat,
            agency=agency,
            spelling=spelling,
            rent=round(flat.rent * rng.uniform(1 - jitter, 1 + jitter) / step) * step,
            area=round(flat.plan.area + rng.uniform(-area, area)),
            start=start,
            layout=flat.plan.layout,
            orientation=flat.plan.orientation,
            band=flat.band,
            promoted=rng.random() < spec.promoted,
        )
        if spec.brand_only and agency.startswith(f"{spec.brands[0]}·"):
            ad.brand_only = self._card_rng.random() < spec.brand_only
        self.ad_by_code[ad.house_code] = ad
        return ad

    def _room_ads(self, day: int) -> None:
        """A few shared rooms (合租) in the filler buildings, outside the flat truth."""
        rng = self.rng
        for b in self.buildings[9::5]:
            if rng.random() < self.spec.room_ads:
                plan = b.plans[-1]
                ad = SimAd(
                    house_code=self._new_code(day),
                    flat=None,
                    agency=rng.choice(b.agencies),
                    spelling=b.spellings[0],
                    rent=round(rng.uniform(1300, 1900) / 10) * 10,
                    area=round(rng.uniform(12, 20)),
                    start=day,
                    end=day + rng.randint(3, 12),
                    tenure="合租",
                    layout=plan.layout,
                    orientation="南",
                    band="中楼层",
                )
                self.ads.append(ad)
                self._room_building[ad.house_code] = b

    def advance(self) -> int:
        """Move to the next day: move-outs, lettings, reposts. Returns the day index."""
        self.day += 1
        day, rng, spec = self.day, self.rng, self.spec
        progress = max(0, day) / max(1, self.days - 1)
        for flat in self.flats:
            b = flat.building
            if flat.vacant_since is None:
                p = b.move_out[0] + (b.move_out[1] - b.move_out[0]) * progress
                if rng.random() < p:
                    flat.vacant_since = day
                    flat.let_on = None
                    self._advertise(flat, day)
            elif rng.random() < spec.let_rate and flat.vacant_since < day:
                flat.let_on = day
                flat.vacant_since = None
                for ad in self.ads:
                    if ad.flat is flat and ad.end is None:
                        if ad.start > day:  # an agency that had not listed it yet never does
                            ad.end = ad.start - 1
                        elif rng.random() < spec.linger:  # the ad outlives the letting
                            ad.end = day - 1 + rng.randint(*spec.linger_days)
                        else:
                            ad.end = day - 1 + rng.choice(spec.takedown_days)
        if self.cut_chance:
            self._ads_by_flat = None  # ads changed since yesterday
            self._cut_prices(day)
        # Reposts: an agency takes an ad down and puts the same flat up under a new id.
        for ad in list(self.ads):
            if (
                ad.flat is not None
                and ad.end is None
                and ad.start < day
                and rng.random() < spec.repost_rate
            ):
                ad.end = day - 1
                again = self._ad(ad.flat, ad.agency, day + rng.choice(spec.repost_gap))
                again.rent, again.area, again.spelling = ad.rent, ad.area, ad.spelling
                again.brand_only = ad.brand_only
                self.ads.append(again)
        self._room_ads(day)
        if day % 7 == 0:  # forget ads long gone, so a day costs the same after weeks
            self.ads = [a for a in self.ads if a.end is None or a.end >= day - 1]
        if day >= 0:
            self._record_truth(day)
        return day

    def _cut_prices(self, day: int) -> None:
        """Landlords of flats long on offer cut their price; each agency follows 0–2 days
        later, on whatever ad of the flat it shows then (a repost included)."""
        rng, spec = self._cut_rng, self.spec
        self._cuts_today = {}
        for flat in self.flats:
            if flat.vacant_since is None or day - flat.vacant_since < spec.cut_after:
                continue
            if rng.random() >= self.cut_chance:
                continue
            factor = 1 - rng.uniform(*spec.cut_size)
            flat.rent = round(flat.rent * factor / 10) * 10
            name = flat.building.name
            self._cuts_today[name] = self._cuts_today.get(name, 0) + 1
            for agency in sorted({a.agency for a in self._ads_of(flat)}):
                self._pending_cuts.append((day + rng.choice(spec.cut_follow), flat, agency, factor))
        due = [p for p in self._pending_cuts if p[0] <= day]
        self._pending_cuts = [p for p in self._pending_cuts if p[0] > day]
        for _, flat, agency, factor in due:
            for ad in self._ads_of(flat):
                if ad.agency == agency:
                    step = self.rent_step(agency)
                    ad.rent = round(ad.rent * factor / step) * step

    def _ads_of(self, flat: Flat) -> list[SimAd]:
        """The flat's honest ads still up or still to go up."""
        if self._ads_by_flat is None:
            self._ads_by_flat = {}
            for ad in self.ads:
                if ad.flat is not None and ad.end is None and not ad.bait:
                    self._ads_by_flat.setdefault(id(ad.flat), []).append(ad)
        return self._ads_by_flat.get(id(flat), [])

    def _record_truth(self, day: int) -> None:
        by_building: dict[str, list[Flat]] = {}
        for flat in self.flats:
            if flat.vacant_since is not None and flat.vacant_since <= day:
                by_building.setdefault(flat.building.name, []).append(flat)
        for b in self.buildings:
            flats = by_building.get(b.name, [])
            self.empty_flats[(b.name, self.date_of(day))] = frozenset(id(f) for f in flats)
            self.truth[(b.name, self.date_of(day))] = Truth(
                vacant=len(flats),
                median_rent=statistics.median(f.rent for f in flats) if flats else None,
                price_cuts=self._cuts_today.get(b.name, 0),
            )

    def live_ads(self, day: int | None = None) -> list[SimAd]:
        day = self.day if day is None else day
        return [a for a in self.ads if a.live(day)]

    def building_of(self, ad: SimAd) -> BuildingSpec:
        return ad.flat.building if ad.flat is not None else self._room_building[ad.house_code]
