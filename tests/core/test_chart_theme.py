"""Charts speak the user's language: Vega's number/time locale follows the current language."""

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme
from crm_impl.core.i18n import set_locale


def test_polish_charts_get_polish_months_and_decimal_comma():
    theme.enable()
    chart = alt.Chart(pd.DataFrame({"x": [1.5]})).mark_bar().encode(x="x")
    set_locale("pl")
    locale = chart.to_dict()["config"]["locale"]
    assert locale["number"]["decimal"] == "," and locale["time"]["months"][0] == "styczeń"
    set_locale("en")
    assert "locale" not in chart.to_dict().get("config", {})
