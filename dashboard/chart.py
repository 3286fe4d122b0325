"""A small stacked bar chart of messages per day, drawn as SVG on the server (no JavaScript)."""

from dataclasses import dataclass

# Bottom to top; each is a CSS class in dunwell.css and a legend entry.
SERIES = (
    ("delivered", "Delivered"),
    ("sent", "Sent, no delivery report yet"),
    ("failed", "Failed or undelivered"),
    ("skipped", "Skipped"),
)
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 900, 200, 32, 22, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]  # x axis: first, middle and last day; y axis: 0 and the maximum
    baseline: float
    top: float
    left: int
    total: int
    summary: str


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 4:
            return max(step * ((value + step - 1) // step), step)
    return value


def daily_chart(daily: list[dict]) -> Chart:
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    peak = _nice_max(max((sum(day[s] for s, _ in SERIES) for day in daily), default=0))
    slot = plot_width / max(len(daily), 1)
    bars, labels = [], []
    for index, day in enumerate(daily):
        x = LEFT + index * slot + slot * 0.15
        y = HEIGHT - BOTTOM
        for series, name in SERIES:
            count = day[series]
            if not count:
                continue
            height = plot_height * count / peak
            y -= height
            title = f"{day['day']:%-d %b}: {count} {name.lower()}"
            bars.append(Bar(round(x, 1), round(y, 1), round(slot * 0.7, 1), round(height, 1),
                            series, title))  # fmt: skip
    # First, middle and last day; the outer two anchored inwards so they are never clipped.
    inset = {"start": slot * 0.15, "middle": slot / 2, "end": slot * 0.85}
    if daily:
        for index, anchor in ((0, "start"), (len(daily) // 2, "middle"), (len(daily) - 1, "end")):
            x = round(LEFT + index * slot + inset[anchor], 1)
            labels.append(Label(x, HEIGHT - 6, f"{daily[index]['day']:%-d %b}", anchor))
    labels += [
        Label(LEFT - 6, HEIGHT - BOTTOM, "0", "end"),
        Label(LEFT - 6, TOP + 8, str(peak), "end"),
    ]
    total = sum(day[s] for day in daily for s, _ in SERIES)
    busiest = max(daily, key=lambda day: sum(day[s] for s, _ in SERIES), default=None)
    summary = f"{total} messages in {len(daily)} days"
    if busiest and total:
        count = sum(busiest[s] for s, _ in SERIES)
        summary += f"; the busiest day was {busiest['day']:%-d %B} with {count}"
    return Chart(WIDTH, HEIGHT, bars, labels, HEIGHT - BOTTOM, TOP, LEFT, total, summary + ".")
