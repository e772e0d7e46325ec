import pytest

PAGES = ["list", "new", "defect", "my_work", "releases", "dashboard"]


@pytest.mark.parametrize("login", ["tester", "pm_vendor", "programmer", "tester_client", "sales_rep"])
@pytest.mark.parametrize("page", PAGES)
def test_smoke(app_as, login, page):
    at = app_as(login, f"pages/defects/{page}.py")
    assert not at.exception, at.exception
