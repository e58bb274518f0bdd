"""The class-wide report.html that `grader batch` writes for TAs.

One self-contained file: a TA opens it from a grading machine, an e-mail attachment or a course
drive, often offline, so nothing may be fetched. Styles are embedded and the two plots are SVG
drawn by pygal and inlined as data URIs: a 40-submission class's report takes 0.05 to 0.09 s in
a fresh process, pygal's import included, where matplotlib took 0.5 to 1.1 s, a small batch's
whole fixed-cost budget (issue 15). Every string from the data (student names, feedback, error
details) comes from submissions and is escaped before it reaches the page; pygal writes the
plots' labels through ElementTree, which escapes them too.

pygal draws no reference line on a histogram (its guides lie under the bars), so the mean is a
second histogram series: one bar a thousandth of the axis wide, drawn over the others with a
dashed outline, named "mean ..." in the legend.
"""

from __future__ import annotations

import base64
import statistics
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MistakeCount:
    mistake: str  # mistake id from the rubric, e.g. "missing_half_n"
    students: int  # how many submissions matched it
    feedback: str  # the feedback text students got for it (one example)


@dataclass(frozen=True)
class QuestionSummary:
    number: str  # "2.2"
    title: str
    max_score: float
    mean: float
    full: int  # submissions with full marks on it
    partial: int  # 0 < score < max
    zero: int
    mistakes: tuple[MistakeCount, ...]  # most common first
    review_pending: int = 0  # parts of the class's written answers awaiting a TA


@dataclass(frozen=True)
class ReviewGroup:
    """Written answers read alike across the class, decided once by a TA."""

    group_id: str  # what `grader review --decide` takes
    question: str
    part: str
    reading: str  # the answer as read (one member's)
    line: int  # where one member wrote it
    excerpt: str  # what that member wrote
    reason: str  # why the reading is not sure
    students: int  # submissions in the group
    decision: str | None  # "0.5 credit, by alice at ..."; None: pending


@dataclass(frozen=True)
class ProblemSubmission:
    submission_id: str
    students: str  # "Ada Lovelace, Alan Turing" (names joined)
    status: str  # e.g. "refused", "import_error", "timed_out", "internal_error", ...
    detail: str


@dataclass(frozen=True)
class SlowSubmission:
    submission_id: str
    students: str
    seconds: float


@dataclass(frozen=True)
class StudentRow:
    name: str
    sid: str
    submission_id: str
    status: str
    total: float | None  # None: not graded
    scores: tuple[float | str | None, ...]  # per question, in `questions` order; "pending"


@dataclass(frozen=True)
class ReportData:
    title: str  # assignment title
    assignment: str
    rubric_sha256: str
    generated_at: str  # ISO timestamp
    max_score: float
    totals: tuple[float, ...]  # total score of each graded submission
    submissions: int  # all submissions in the input, graded or not
    questions: tuple[QuestionSummary, ...]
    problems: tuple[ProblemSubmission, ...]
    slowest: tuple[SlowSubmission, ...]
    pending_points: float = 0.0  # graded by hand, not in max_score
    students: tuple[StudentRow, ...] = ()  # one row per student, for the sortable table
    review_groups: tuple[ReviewGroup, ...] = ()  # written answers for a TA, grouped


FULL_COLOUR, PARTIAL_COLOUR, ZERO_COLOUR = "#2a9d8f", "#e9b949", "#e0644a"
BAR_COLOUR = "#3d6fb6"
PLOT_WIDTH = 1000
"""SVG units (CSS pixels): about the page's content width, so plot text shows near its size."""
INK, GRID = "#2b2f36", "#d9dde3"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
"""The page's own font stack (STYLE's body font)."""
MEAN_WIDTH = 0.001
"""The mean's bar, as a share of the histogram's axis: a line's width at PLOT_WIDTH."""

STATUS_CLASS = {
    "refused": "bad",
    "import_error": "bad",
    "crashed": "bad",
    "internal_error": "bad",
    "timed_out": "warn",
    "missing": "muted",
}
"""Badge colours for the statuses the gradebook produces; an unknown status gets a neutral one
(the status is data, so it never becomes a class name itself)."""


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document."""
    body = "\n".join(
        [
            _header(data),
            _section("Score distribution", _histogram(data)),
            _section("Questions", _question_chart(data) + _question_table(data)),
            *(
                [_section("Written answers to review", _review_groups(data))]
                if data.review_groups
                else []
            ),
            _section("Students", _students(data)),
            _section("Common mistakes", _mistakes(data)),
            _section("Problem submissions", _problems(data)),
            _section("Slowest submissions", _slowest(data)),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(data.title)}: grading report</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"<script>{SORTER}</script>\n</body>\n</html>\n"
    )


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _num(value: float) -> str:
    """Scores print like the rubric writes them: 7, 2.5, 0.333."""
    return f"{value:.3g}" if value != int(value) else f"{int(value)}"


def _section(heading: str, content: str) -> str:
    return f"<section>\n<h2>{heading}</h2>\n{content}\n</section>"


def _empty(message: str) -> str:
    return f'<p class="empty">{message}</p>'


def _header(data: ReportData) -> str:
    graded = len(data.totals)
    if data.totals:
        mean, median = statistics.fmean(data.totals), statistics.median(data.totals)
        stats = [
            ("Mean", _num(round(mean, 2))),
            ("Median", _num(round(median, 2))),
            ("Best", _num(max(data.totals))),
        ]
    else:
        stats = [("Mean", "—"), ("Median", "—"), ("Best", "—")]
    counts = [
        ("Submissions", str(data.submissions)),
        ("Graded", str(graded)),
        ("Problems", str(len(data.problems))),
    ]
    awaiting = sum(q.review_pending for q in data.questions)
    if data.review_groups:
        counts.append(("Parts pending review", str(awaiting)))
    alerts = {"Problems": bool(data.problems), "Parts pending review": awaiting > 0}
    tiles = "".join(
        f'<div class="stat{" alert" if alerts.get(label) else ""}" data-stat="{_e(label)}">'
        f'<span class="value">{value}</span><span class="label">{label}</span></div>'
        for label, value in counts
    )
    tiles += "".join(
        f'<div class="stat"><span class="value">{value}<small> / {_num(data.max_score)}'
        f'</small></span><span class="label">{label} total</span></div>'
        for label, value in stats
    )
    scale = (
        f"Totals are out of the {_num(data.max_score)} auto-graded points; "
        f"{_num(data.pending_points)} more points of the assignment are graded by hand and are "
        "not included."
        if data.pending_points
        else f"Totals are out of {_num(data.max_score)} points, all auto-graded."
    )
    if awaiting:
        scale += (
            f" {awaiting} written answers of the class await a TA's review: they count in no "
            "total (and are never 0) until decided."
        )
    sha = data.rubric_sha256
    return (
        "<header>\n"
        f"<h1>{_e(data.title)}</h1>\n"
        f'<p class="meta">Assignment <strong>{_e(data.assignment)}</strong> · rubric '
        f'<code title="{_e(sha)}">{_e(sha[:12])}</code> · generated '
        f"<time>{_e(data.generated_at)}</time></p>\n"
        f'<div class="stats">{tiles}</div>\n'
        f'<p class="scale">{_e(scale)}</p>\n'
        "</header>"
    )


def _pygal() -> Any:
    """pygal, imported when a plot is drawn: grader.batch's processes that never draw (a Dask
    worker reading a fingerprint) do not pay its import."""
    import pygal

    return pygal


def _chart(kind: str, plot: str, colours: tuple[str, ...], **config: object) -> Any:
    """A pygal chart of `kind` styled like the page: exact colours (no opacity: a bar is its
    colour), light dashed grid lines, the page's fonts, the legend under the plot (one entry
    per series, one series per colour).

    Made self-contained and deterministic: pygal's default config links its tooltip script
    from the network (`js=[]`), and it prefixes its CSS with the chart's random uuid, pinned
    to the plot's name here (the id is the SVG's own: each plot is a separate image).
    """
    pygal = _pygal()
    style = pygal.style.Style(
        colors=colours,
        background="white",
        plot_background="white",
        foreground=INK,
        foreground_strong=INK,
        foreground_subtle=GRID,
        opacity="1",
        opacity_hover="1",
        font_family=FONT,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        title_font_size=14,
        guide_stroke_color=GRID,
        major_guide_stroke_color=GRID,
        major_guide_stroke_dasharray="4,4",
    )
    chart = getattr(pygal, kind)(
        style=style,
        width=PLOT_WIDTH,
        js=[],
        margin=12,
        legend_at_bottom=True,
        # One row: pygal sizes its bottom margin for too few rows when there are more
        # columns than series, and the legend falls off the plot.
        legend_at_bottom_columns=len(colours),
        truncate_label=-1,  # a question number is shown whole, never cut to "2.…"
        truncate_legend=-1,
        order_min=0,  # counts of submissions: whole-number ticks,
        max_scale=8,  # and not one per count
        **config,
    )
    chart.uuid = plot
    chart.add_xml_filter(_without_comments_or_scripts)
    return chart


def _without_comments_or_scripts(root: Any) -> Any:
    """pygal writes comments with the day it drew the plot and its web addresses, and a
    <script> holding its config for the tooltip script we do not load: the plot keeps
    neither, so an unchanged class gives an identical file with no address in it."""
    etree = _pygal().etree.etree
    for node in list(root):
        if node.tag is etree.Comment:
            root.remove(node)
    for defs in root.iter("defs"):
        for script in defs.findall("script"):
            defs.remove(script)
    return root


def _svg_figure(chart: Any, plot: str, alt: str, caption: str) -> str:
    """Embed as an <img> data URI rather than inline <svg>: the plot's ids and CSS stay in
    its own document, apart from the page's and the other plot's."""
    svg = chart.render(is_unicode=True)
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    return (
        f'<figure data-plot="{plot}" id="{plot}">'
        f'<img src="data:image/svg+xml;base64,{encoded}" alt="{_e(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _histogram_edges(upper: float) -> list[float]:
    """One bar per whole point on small scales (a TA reads "how many got 6/7"), otherwise
    twenty equal bins over 0..upper."""
    if upper == int(upper) and upper <= 20:
        return [k - 0.5 for k in range(int(upper) + 2)]
    return [upper * k / 20 for k in range(21)]


def _histogram(data: ReportData) -> str:
    if not data.totals:
        return _empty("No submission was graded, so there is no score distribution.")
    # Bonus points can push a total past max_score, and a rubric with max_score 0 still needs
    # a non-empty range to draw.
    upper = max(data.max_score, max(data.totals)) or 1.0
    edges = _histogram_edges(upper)
    counts, _ = np.histogram(data.totals, bins=edges)
    # Bars centred on whole points (from -0.5) get a label each; on twenty bins pygal picks
    # round numbers.
    whole_points = [edge + 0.5 for edge in edges[:-1]] if edges[0] < 0 else []
    top = float(max(counts)) * 1.15  # headroom over the tallest bar; the mean's line reaches it
    mean = statistics.fmean(data.totals)
    half = MEAN_WIDTH * (edges[-1] - edges[0]) / 2
    pending = f"; {_num(data.pending_points)} more by hand" if data.pending_points else ""
    chart = _chart(
        "Histogram",
        "score-histogram",
        (BAR_COLOUR, INK),
        height=330,
        range=(0, top),
        x_labels=[{"value": point, "label": _num(point)} for point in whole_points] or None,
        x_title=f"Total score (out of {_num(data.max_score)} auto-graded{pending})",
        y_title="Submissions",
        # The guide pygal draws at x = 0 as a y axis would cross the first bar's middle when
        # bars are centred on whole points; the horizontal grid lines show the counts.
        css=[
            *_pygal().Config().css,
            "inline:#chart-score-histogram .axis.x path.axis {stroke: none}",
        ],
    )
    chart.add(
        "submissions",
        [
            {"value": (int(count), low, high), "style": "stroke: white; stroke-width: 1"}
            for count, low, high in zip(counts, edges[:-1], edges[1:], strict=True)
        ],
    )
    chart.add(
        f"mean {mean:.2f}",
        [
            {
                "value": (top, mean - half, mean + half),
                "style": f"fill: none; stroke: {INK}; stroke-width: 1.5; stroke-dasharray: 6 4",
            }
        ],
    )
    graded = len(data.totals)
    return _svg_figure(
        chart,
        "score-histogram",
        f"Histogram of the total scores of {graded} graded submissions",
        f"Total scores of the {graded} graded submissions; dashed line: mean.",
    )


def _question_chart(data: ReportData) -> str:
    if not data.questions:
        return _empty("The rubric has no questions.")
    # Questions worth no auto-graded points (feedback only, or graded by hand) stay in the
    # table below but out of the chart, where they would be empty or misleading rows.
    questions = [q for q in data.questions if q.max_score > 0]
    if not questions:
        return _empty("No question carries auto-graded points, so there is no chart.")
    if not any(q.full + q.partial + q.zero for q in questions):
        return _empty("No submission was graded, so there are no per-question scores.")
    # pygal stacks a horizontal chart's rows from the bottom up: reversed, the first question
    # is on top, as in the table below.
    rows = questions[::-1]
    chart = _chart(
        "HorizontalStackedBar",
        "question-scores",
        (FULL_COLOUR, PARTIAL_COLOUR, ZERO_COLOUR),
        height=110 + 30 * len(rows),
        x_labels=[q.number for q in rows],
        x_title="Submissions",
    )
    chart.add("full", [q.full for q in rows])
    chart.add("partial", [q.partial for q in rows])
    chart.add("zero", [q.zero for q in rows])
    return _svg_figure(
        chart,
        "question-scores",
        "Stacked bars per question: submissions with full, partial and zero marks",
        "Per question: submissions with full, partial and zero marks.",
    )


def _question_table(data: ReportData) -> str:
    if not data.questions:
        return ""
    rows = []
    for q in data.questions:
        # With nothing graded a mean of 0 would read as "everyone failed".
        mean = f"{q.mean:.2f}" if data.totals else "—"
        if data.totals and q.max_score > 0:
            fraction = min(max(q.mean / q.max_score, 0.0), 1.0)
            share = (
                f'<div class="meter"><span style="width:{fraction * 100:.1f}%"></span></div>'
                f"{fraction:.0%}"
            )
        else:
            share = "—"
        review = f"<td class='num review'>{q.review_pending}</td>" if data.review_groups else ""
        rows.append(
            f'<tr data-question="{_e(q.number)}"><td>{_e(q.number)}</td>'
            f"<td>{_e(q.title)}</td><td class='num'>{mean}</td>"
            f"<td class='num'>{_num(q.max_score)}</td><td class='share'>{share}</td>"
            f"<td class='num full'>{q.full}</td><td class='num partial'>{q.partial}</td>"
            f"<td class='num zero'>{q.zero}</td>{review}</tr>"
        )
    # Written answers awaiting a TA get a column only when the class has any.
    review_heading = ["Pending review"] if data.review_groups else []
    return _table(
        [
            "Question",
            "Title",
            "Mean",
            "Max",
            "Mean / max",
            "Full",
            "Partial",
            "Zero",
            *review_heading,
        ],
        rows,
        "questions",
        numeric={"Mean", "Max", "Full", "Partial", "Zero", "Pending review"},
    )


def _review_groups(data: ReportData) -> str:
    """One row per answer group: a TA sees what to decide and how many students it settles."""
    pending = [g for g in data.review_groups if g.decision is None]
    intro = (
        f'<p class="hint">{len(data.review_groups)} groups of written answers read alike; '
        f"{len(pending)} still to decide with <code>grader review OUTDIR --decide GROUP "
        "--credit X</code>. The parts are pending (not counted, never 0) until then.</p>\n"
    )
    rows = [
        f'<tr data-group="{_e(g.group_id)}"><td><code>{_e(g.group_id)}</code></td>'
        f"<td>{_e(g.question)} {_e(g.part)}</td><td class='num'>{g.students}</td>"
        f"<td><div class='feedback'>{_e(g.reading or '(nothing read)')}</div></td>"
        f"<td><div class='detail'>line {g.line}: {_e(g.excerpt)}</div></td>"
        f"<td>{_e(g.reason)}</td><td>{_e(g.decision or 'pending')}</td></tr>"
        for g in data.review_groups
    ]
    return intro + _table(
        ["Group", "Part", "Students", "Read as", "Example", "Why unsure", "Decision"],
        rows,
        "review-groups",
        numeric={"Students"},
    )


def _score_cell(value: float | str | None) -> str:
    if value is None:
        return "<td class='num' data-sort=''>—</td>"
    if isinstance(value, str):
        return f"<td class='num' data-sort=''>{_e(value)}</td>"
    return f"<td class='num' data-sort='{value:.6g}'>{_num(round(value, 3))}</td>"


def _students(data: ReportData) -> str:
    if not data.students:
        return _empty("No student is in the gradebook yet.")
    numbers = [q.number for q in data.questions]
    rows = [
        f"<tr><td>{_e(s.name)}</td><td>{_e(s.sid)}</td><td><code>{_e(s.submission_id)}</code>"
        f"</td><td>{_e(s.status.replace('_', ' '))}</td>{_score_cell(s.total)}"
        + "".join(_score_cell(score) for score in s.scores)
        + "</tr>"
        for s in data.students
    ]
    headings = ["Student", "SID", "Submission", "Status", "Total", *numbers]
    return (
        '<p class="hint">Click a column heading to sort by it (again to reverse).</p>\n'
        + _table(headings, rows, "students", numeric={"Total", *numbers}, sortable=True)
    )


def _mistakes(data: ReportData) -> str:
    if not any(q.mistakes for q in data.questions):
        return _empty("No known mistake was matched in any submission.")
    graded = len(data.totals)
    blocks = []
    for q in data.questions:
        if not q.mistakes:
            continue
        rows = []
        for m in q.mistakes:
            share = f" <small>({m.students / graded:.0%})</small>" if graded else ""
            rows.append(
                f'<tr data-mistake="{_e(m.mistake)}"><td><code>{_e(m.mistake)}</code></td>'
                f"<td class='num'>{m.students}{share}</td>"
                f"<td><div class='feedback'>{_e(m.feedback)}</div></td></tr>"
            )
        blocks.append(
            f"<h3>{_e(q.number)} {_e(q.title)}</h3>\n"
            + _table(
                ["Mistake", "Students", "Feedback they got"], rows, "mistakes", numeric={"Students"}
            )
        )
    return "\n".join(blocks)


def _problems(data: ReportData) -> str:
    if not data.problems:
        return _empty("Every submission was graded without problems.")
    rows = [
        f"<tr><td><code>{_e(p.submission_id)}</code></td><td>{_e(p.students)}</td>"
        f"<td><span class='badge {STATUS_CLASS.get(p.status, 'other')}'>"
        f"{_e(p.status.replace('_', ' '))}</span></td>"
        f"<td><div class='detail'>{_e(p.detail)}</div></td></tr>"
        for p in data.problems
    ]
    return _table(["Submission", "Students", "Status", "Detail"], rows, "problems")


def _slowest(data: ReportData) -> str:
    if not data.slowest:
        return _empty("No timings were recorded.")
    rows = [
        f"<tr><td><code>{_e(s.submission_id)}</code></td><td>{_e(s.students)}</td>"
        f"<td class='num'>{s.seconds:.1f} s</td></tr>"
        for s in data.slowest
    ]
    return _table(["Submission", "Students", "Time"], rows, "slowest", numeric={"Time"})


def _table(
    headings: Iterable[str],
    rows: Iterable[str],
    name: str,
    numeric: Collection[str] = (),
    sortable: bool = False,
) -> str:
    """Numeric columns get right-aligned headings to sit over their right-aligned cells."""
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if h in numeric else f"<th>{_e(h)}</th>" for h in headings
    )
    sort = " data-sortable" if sortable else ""
    return (
        f'<table data-table="{name}"{sort}><thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table>"
    )


SORTER = """
document.querySelectorAll("table[data-sortable]").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[column], sort = cell.getAttribute("data-sort");
        return sort === null ? cell.textContent.trim().toLowerCase()
          : sort === "" ? null : parseFloat(sort);
      };
      Array.from(body.rows).map(function (row) { return [key(row), row]; })
        .sort(function (a, b) {
          if (a[0] === b[0]) return 0;
          if (a[0] === null) return 1;
          if (b[0] === null) return -1;
          return (a[0] < b[0] ? -1 : 1) * (up ? 1 : -1);
        })
        .forEach(function (pair) { body.appendChild(pair[1]); });
    });
  });
});
"""
"""Sorts the students table in the page itself (no external script): numbers by value, text
alphabetically, blanks last."""

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: #2b2f36;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
header, section { background: #fff; border: 1px solid #e1e5ea; border-radius: 10px;
  padding: 20px 24px; margin-bottom: 20px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0 0 14px; font-size: 19px; }
h3 { margin: 22px 0 8px; font-size: 16px; }
.meta { margin: 0 0 16px; color: #5b6370; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  background: #eef1f5; padding: 1px 5px; border-radius: 4px; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; }
.stat { background: #f4f6f8; border-radius: 8px; padding: 10px 14px; }
.stat .value { display: block; font-size: 24px; font-weight: 600; }
.stat .value small { font-size: 14px; font-weight: 400; color: #5b6370; }
.stat .label { color: #5b6370; font-size: 13px; }
.stat.alert .value { color: #c0392b; }
figure { margin: 0 0 16px; }
figure img { display: block; width: 100%; height: auto; }
figcaption { color: #5b6370; font-size: 13px; margin-top: 4px; }
.empty { color: #5b6370; font-style: italic; margin: 4px 0; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; font-weight: 600; color: #5b6370; border-bottom: 2px solid #e1e5ea;
  padding: 6px 10px; white-space: nowrap; }
td { border-bottom: 1px solid #eceff3; padding: 6px 10px; vertical-align: top; }
tbody tr:nth-child(even) { background: #fafbfc; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.full { color: #1f7a6f; } td.partial { color: #9a6b00; } td.zero { color: #b8432b; }
td.share { white-space: nowrap; font-variant-numeric: tabular-nums; }
.meter { display: inline-block; width: 90px; height: 8px; background: #e6e9ee;
  border-radius: 4px; margin-right: 8px; vertical-align: middle; overflow: hidden; }
.meter span { display: block; height: 100%; background: #3d6fb6; }
table[data-table="mistakes"] { table-layout: fixed; }
table[data-table="mistakes"] th:nth-child(1) { width: 30%; }
table[data-table="mistakes"] th:nth-child(2) { width: 14%; }
table[data-table="mistakes"] code { overflow-wrap: anywhere; }
.feedback, .detail { white-space: pre-wrap; overflow-wrap: anywhere; }
.detail { font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; max-height: 12em;
  overflow: auto; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; white-space: nowrap; background: #e6e9ee; color: #3b424d; }
.badge.bad { background: #fbe3de; color: #a5321b; }
.badge.warn { background: #fcefcf; color: #8a5a00; }
.badge.muted { background: #eceff3; color: #5b6370; }
.scale, .hint { color: #5b6370; font-size: 13px; margin: 10px 0 0; }
table[data-sortable] th { cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
"""
