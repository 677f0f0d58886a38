"""The scale type in the shipped evaluation (forms/utvardering.yaml): a rating 1..5 with labelled ends,
summarised with its distribution, mean and median, exported as a number."""

from __future__ import annotations

import io

import pytest
from helpers import submit, text_of
from openpyxl import load_workbook

from formsvc.definitions import DefinitionError, parse_definition

RATED = {"anvandbar": "3", "upplagg": "4"}


def test_the_page_shows_the_scale_with_its_ends(client):
    page = client.get("/f/utvardering")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 Instämmer inte alls" in text_of(page) and "5 Instämmer helt" in text_of(page)
    assert html.count('name="meningsfull"') == 5 and "<legend>Workshoppen var meningsfull" in html


@pytest.mark.parametrize("bad", ["6", "0", "tre", "-1"])
def test_a_value_off_the_scale_is_refused(client, bad):
    """Bad input: values outside 1..5 and not numbers at all."""
    response = submit(client, "utvardering", {**RATED, "meningsfull": bad})
    assert response.status_code == 422
    assert "Välj bland de alternativ som finns i listan." in text_of(response)


def test_results_show_distribution_mean_and_median_and_export_numbers(app, staff_client):
    for rating in ("5", "4", "1", "4"):
        assert submit(staff_client, "utvardering", {**RATED, "meningsfull": rating}).status_code == 303
    results = text_of(staff_client.get("/staff/forms/utvardering/results"))
    assert "4 2 50 %" in results and "2 0 0 %" in results  # the value 4 twice of four; nobody gave 2
    assert "Medelvärde 3,5, median 4." in results
    workbook = load_workbook(io.BytesIO(staff_client.get("/staff/forms/utvardering/export.xlsx").data))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    column = header.index("Workshoppen var meningsfull")
    assert sorted(row[column].value for row in sheet.iter_rows(min_row=2)) == [1, 4, 4, 5]
    assert all(isinstance(row[column].value, int) for row in sheet.iter_rows(min_row=2))
    summary = [[cell.value for cell in row] for row in workbook["Sammanfattning"].iter_rows()]
    at = next(n for n, row in enumerate(summary) if row[0] == "Workshoppen var meningsfull")
    assert summary[at + 1][:3] == ["Värde", "Antal", "Andel"]
    assert [row[:2] for row in summary[at + 2 : at + 9]] == [
        ["1", 1], ["2", 0], ["3", 0], ["4", 2], ["5", 1], ["Medelvärde", 3.5], ["Median", 4]
    ]


@pytest.mark.parametrize(("setting", "reason"), [({"max": 1}, "from 2 to 10"), ({"max": 11}, "from 2 to 10"),
                                                  ({"min_label": 3}, "'min_label' must be text"),
                                                  ({"choices": {"a": "A"}}, "takes no 'choices'")])
def test_bad_scale_settings_are_refused(setting, reason):
    raw = {"title": "T", "fields": [{"key": "s", "type": "scale", "label": "S", **setting}]}
    with pytest.raises(DefinitionError, match=reason):
        parse_definition(raw, slug="t")
