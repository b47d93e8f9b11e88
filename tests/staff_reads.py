"""Opening one citizen's record in the admin: staff first say why."""

from django.test import Client


def give_purpose(client: Client, url: str, purpose: str = "Answering their complaint") -> None:
    """Say why a citizen's record is opened, on the form its page asks first (remembered
    for that citizen for a while, so their other records open without asking again)."""
    response = client.post(url, {"staff_read_purpose": purpose})
    assert response.status_code == 302, response.status_code
    assert response["Location"] == url
