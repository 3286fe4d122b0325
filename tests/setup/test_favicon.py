"""The site's icon: every page links it, and /favicon.ico (which browsers ask for) finds it."""

import requests


def test_favicon_ico_leads_to_the_icon(client, db, live_server):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = requests.get(f"{live_server.url}{response['Location']}", timeout=10)
    assert icon.status_code == 200
    assert icon.content.startswith(b"\x00\x00\x01\x00")  # an ICO file's header


def test_every_page_links_the_icon(client, db, live_server):
    page = client.get("/accounts/login/").content.decode()

    assert '<link rel="icon" href="/static/favicon.ico"' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert requests.get(f"{live_server.url}/static/favicon.svg", timeout=10).status_code == 200
