"""The class-wide report.html: what a TA sees, that submission text cannot inject markup, that
the file opens offline, and that a real browser draws it."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import subprocess
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from grader.outputs.html_report import (
    MistakeCount,
    ProblemSubmission,
    QuestionSummary,
    ReportData,
    SlowSubmission,
    StudentRow,
    render_report,
)

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TIMEOUT = 60
"""Seconds before a hung headless browser fails the test instead of hanging the suite."""

HOSTILE = "<script>alert(1)</script>"


def class_report(**changes: object) -> ReportData:
    """A small class: three questions, common mistakes, two problem submissions."""
    data = ReportData(
        title="HW2: Numerical methods",
        assignment="hw2",
        rubric_sha256="3f5a9c0e1b2d4f6a8c0e1b2d4f6a8c0e1b2d4f6a8c0e1b2d4f6a8c0e1b2d4f6a",
        generated_at="2025-03-14T15:09:26+00:00",
        max_score=7.0,
        totals=(7.0, 6.5, 6.0, 6.0, 5.0, 4.5, 7.0, 3.0, 0.0, 6.0, 5.5, 7.0),
        submissions=14,
        questions=(
            QuestionSummary(
                "1.1",
                "Trapezoid rule",
                2.0,
                1.75,
                9,
                2,
                1,
                (MistakeCount("missing_half_n", 3, "Remember the endpoints count half."),),
            ),
            QuestionSummary(
                "2.2",
                "Newton's method",
                3.0,
                2.1,
                6,
                4,
                2,
                (
                    MistakeCount("wrong_derivative", 4, "Check the derivative of f."),
                    MistakeCount("no_convergence_check", 2, "Stop when |x_k+1 - x_k| < tol."),
                ),
            ),
            QuestionSummary("3", "Condition numbers", 2.0, 1.5, 8, 2, 2, ()),
        ),
        problems=(
            ProblemSubmission("sub-0013", "Grace Hopper", "timed_out", "exceeded 60 s"),
            ProblemSubmission(
                "sub-0014",
                "Alan Turing, Ada Lovelace",
                "import_error",
                "Traceback (most recent call last):\nModuleNotFoundError: scipy",
            ),
        ),
        slowest=(
            SlowSubmission("sub-0007", "Katherine Johnson", 41.2),
            SlowSubmission("sub-0003", "Edsger Dijkstra", 12.9),
        ),
        students=STUDENTS,
    )
    return dataclasses.replace(data, **changes)


STUDENTS = (
    StudentRow("Ada Lovelace", "0012", "1001", "graded", 7.0, (2.0, 3.0, 2.0)),
    StudentRow("Grace Hopper", "0007", "1002", "timed_out", 3.5, (2.0, 1.5, None)),
    StudentRow("Alan Turing", "0031", "1003", "graded", 5.25, (1.25, 2.0, 2.0)),
    StudentRow("Edsger Dijkstra", "0002", "1004", "missing", None, (None, None, None)),
)


def table(html: str, name: str) -> str:
    match = re.search(rf'<table data-table="{name}"[^>]*>.*?</table>', html, re.S)
    assert match, f"no {name} table in the report"
    return match.group(0)


def test_report_shows_plots_questions_mistakes_problems_and_slowest() -> None:
    html = render_report(class_report())
    for plot in ("score-histogram", "question-scores"):
        assert re.search(rf'<figure data-plot="{plot}"[^>]*><img src="data:image/svg\+xml;', html)
    questions = table(html, "questions")
    for number in ("1.1", "2.2", "3"):
        assert f'data-question="{number}"' in questions
    mistakes = "".join(re.findall(r'<table data-table="mistakes">.*?</table>', html, re.S))
    assert re.search(r'data-mistake="wrong_derivative".*?>4 <small>', mistakes, re.S)
    assert "Check the derivative of f." in mistakes
    problems = table(html, "problems")
    assert "sub-0014" in problems and "import error" in problems and "ModuleNotFound" in problems
    assert "Katherine Johnson" in table(html, "slowest") and "41.2 s" in html


def test_untrusted_text_is_escaped() -> None:
    html = render_report(
        class_report(
            title=HOSTILE,
            problems=(ProblemSubmission('x" onmouseover="alert(1)', HOSTILE, HOSTILE, HOSTILE),),
            slowest=(SlowSubmission("s", HOSTILE, 1.0),),
            questions=(
                QuestionSummary(
                    "1",
                    HOSTILE,
                    1.0,
                    0.5,
                    1,
                    1,
                    1,
                    (MistakeCount('"><img src=x onerror=alert(1)>', 1, HOSTILE),),
                ),
            ),
        )
    )
    assert html.lower().count("<script") == 1  # the table sorter, and nothing a student wrote
    assert "<img src=x" not in html
    assert 'onmouseover="' not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6


def test_report_is_self_contained() -> None:
    html = render_report(class_report())
    assert not re.search(r"<(link|iframe|object|embed)\b", html, re.I)
    assert re.findall(r"<script\b[^>]*>", html, re.I) == ["<script>"]  # inline, never fetched
    assert "@import" not in html and "url(" not in html
    references = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', html)
    assert references, "the plots should be embedded as images"
    assert all(ref.startswith(("data:", "#")) for ref in references), references
    for ref in references:
        svg = base64.b64decode(ref.split(",", 1)[1]).decode()
        # Namespace URIs (xmlns="http://www.w3.org/2000/svg") are names, not fetches.
        for link in re.findall(r'\b(?:xlink:)?href="([^"]*)"', svg):
            assert link.startswith("#"), link


def test_zero_graded_submissions_says_so_instead_of_plotting() -> None:
    empty = tuple(
        dataclasses.replace(q, mean=0.0, full=0, partial=0, zero=0, mistakes=())
        for q in class_report().questions
    )
    html = render_report(class_report(totals=(), slowest=(), questions=empty))
    assert "No submission was graded" in html
    assert "data-plot" not in html
    assert re.search(r'<span class="value">0</span><span class="label">Graded', html)


def test_zero_max_score_and_no_mistakes_or_problems_render() -> None:
    questions = (QuestionSummary("1", "Ungraded reflection", 0.0, 0.0, 3, 0, 0, ()),)
    html = render_report(
        class_report(max_score=0.0, totals=(0.0, 0.0, 0.0), questions=questions, problems=())
    )
    assert 'data-plot="score-histogram"' in html
    assert "No known mistake was matched" in html
    assert "Every submission was graded without problems." in html


def plot_svgs(html: str) -> dict[str, str]:
    """Each plot's SVG document, by its data-plot name."""
    found = re.findall(
        r'<figure data-plot="([^"]+)"[^>]*><img src="data:image/svg\+xml;base64,'
        r'([^"]+)"',
        html,
    )
    return {plot: base64.b64decode(encoded).decode() for plot, encoded in found}


def test_rendering_is_deterministic() -> None:
    assert render_report(class_report()) == render_report(class_report())


def test_plots_do_not_carry_the_day_they_were_drawn() -> None:
    svgs = plot_svgs(render_report(class_report()))
    assert set(svgs) == {"score-histogram", "question-scores"}
    for svg in svgs.values():
        assert date.today().isoformat() not in svg
        assert "<!--" not in svg


def test_report_names_no_web_address_and_plots_hold_no_script() -> None:
    html = render_report(class_report())
    assert not re.search(r"https?:", html)
    for plot, svg in plot_svgs(html).items():
        # xmlns declarations name the SVG vocabulary; nothing fetches them.
        names_dropped = re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", svg)
        assert not re.search(r"https?:|[\"'(]//", names_dropped), plot
        assert "<script" not in svg, plot


def test_no_two_elements_of_the_page_share_an_id() -> None:
    ids = re.findall(r'\sid="([^"]*)"', render_report(class_report()))
    assert len(ids) == len(set(ids)), ids


def test_plot_labels_from_the_rubric_are_drawn_as_text() -> None:
    number = "</svg><script>alert(1)</script> $x$"
    questions = (QuestionSummary(number, HOSTILE, 1.0, 0.5, 1, 1, 1, ()),)
    svg = plot_svgs(render_report(class_report(questions=questions)))["question-scores"]
    root = ElementTree.fromstring(svg)  # still one well-formed document
    svg_ns = "{http://www.w3.org/2000/svg}"
    assert number in [text.text for text in root.iter(f"{svg_ns}text")]
    assert not list(root.iter(f"{svg_ns}script"))


def test_students_table_lists_every_student_with_sortable_columns() -> None:
    html = render_report(class_report())
    students = table(html, "students")
    assert "data-sortable" in students
    for row in STUDENTS:
        assert row.name in students
    assert "<td class='num' data-sort='5.25'>5.25</td>" in students


def test_questions_worth_nothing_stay_out_of_the_chart() -> None:
    def chart_height(html: str) -> str:
        svg = re.search(
            r'data-plot="question-scores"[^>]*><img src="data:image/svg\+xml;base64,'
            r'([^"]+)"',
            html,
        )
        assert svg
        found = re.search(r'viewBox="0 0 \d+ (\d+)"', base64.b64decode(svg.group(1)).decode())
        assert found
        return found.group(1)

    plain = class_report()
    neatness = QuestionSummary("N", "Neatness (by hand)", 0.0, 0.0, 0, 0, 0, ())
    with_zero = dataclasses.replace(plain, questions=(*plain.questions, neatness))
    html = render_report(with_zero)
    assert chart_height(html) == chart_height(render_report(plain))
    assert 'data-question="N"' in table(html, "questions")  # still in the table


def test_totals_are_stated_as_out_of_the_auto_graded_points() -> None:
    html = render_report(class_report(pending_points=1.8))
    assert "Totals are out of the 7 auto-graded points; 1.8 more points" in html


@pytest.mark.browser
def test_browser_sorts_the_students_table(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"no headless browser at {CHROMIUM}")
    report = tmp_path / "report.html"
    clicks = (
        "<script>var th = document.querySelectorAll('table[data-sortable] th');"
        "th[4].click(); th[4].click();</script>"  # Total, descending
    )
    report.write_text(render_report(class_report()).replace("</body>", clicks + "</body>"))
    process = chromium(report, tmp_path, "--dump-dom")
    assert process.returncode == 0, process.stderr
    students = table(process.stdout, "students")
    order = [row.name for row in sorted(STUDENTS, key=lambda r: students.index(r.name))]
    assert order == ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]
    assert 'aria-sort="descending"' in students


@pytest.fixture(scope="module")
def browser_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CHROMIUM.is_file():
        if os.environ.get("GRADER_REQUIRE_BROWSER"):
            pytest.fail(f"GRADER_REQUIRE_BROWSER is set but there is no {CHROMIUM}")
        pytest.skip(f"no headless browser at {CHROMIUM}")
    report = tmp_path_factory.mktemp("report") / "report.html"
    report.write_text(render_report(class_report()), encoding="utf-8")
    return report


def chromium(report: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a fresh profile and no background traffic, so the run depends
    only on the file (as root it needs --no-sandbox)."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
        *args,
        report.as_uri(),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False
    )


def colour_pixels(image: np.ndarray, hex_colour: str) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(image[..., :3] - rgb).max(axis=-1) < 0.02).sum())


@pytest.mark.browser
def test_browser_draws_a_page_with_both_plots(browser_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    process = chromium(browser_report, tmp_path, f"--screenshot={shot}")
    assert shot.is_file(), process.stderr
    image = np.asarray(Image.open(shot).convert("RGB")) / 255
    assert image.shape[:2] == (2000, 1280)
    non_white = (image[..., :3] < 0.95).any(axis=-1).mean()
    assert non_white > 0.05, f"only {non_white:.1%} of the page is drawn"
    distinct = np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(distinct) > 50
    # The plots' own bar colours, in areas far larger than any table decoration.
    assert colour_pixels(image, "#3d6fb6") > 5000, "the histogram was not drawn"
    assert colour_pixels(image, "#2a9d8f") > 5000, "the per-question chart was not drawn"


@pytest.mark.browser
def test_browser_dom_has_plot_figures_with_images(browser_report: Path, tmp_path: Path) -> None:
    process = chromium(browser_report, tmp_path, "--dump-dom")
    assert process.returncode == 0, process.stderr
    for plot in ("score-histogram", "question-scores"):
        assert re.search(
            rf'<figure data-plot="{plot}"[^>]*><img src="data:image/svg', process.stdout
        ), f"{plot} missing from the rendered DOM"
