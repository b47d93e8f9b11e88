"""The OpenAPI schema describes the API and its docs work without outside network."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_describes_the_wallet_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for expected in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/me/wallet",
        "/api/v1/me/transactions",
        "/api/v1/me/top-ups",
        "/api/v1/me/top-ups/{top_up_id}",
        "/api/v1/me/withdrawals",
        "/api/v1/payments/{provider}/webhook",
    ):
        assert expected in paths
    components = schema["components"]["schemas"]

    def component(response: dict, media_type: str = "application/json") -> dict:
        return components[response["content"][media_type]["schema"]["$ref"].rsplit("/", 1)[1]]

    top_up = paths["/api/v1/me/top-ups"]["post"]
    assert {p["name"] for p in top_up["parameters"]} == {"Idempotency-Key"}
    # 422: a limit refuses it; 503: the payment provider (or the database) cannot be
    # reached; 403: a web session's CSRF check; 413 and 415 every operation with a body
    # shares (common.schema.DocumentedAutoSchema)
    assert set(top_up["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
        "503",
    }
    assert set(top_up["responses"]["503"]["content"]["application/problem+json"]["examples"]) == {
        "payment_provider_unavailable",
        "temporarily_unavailable",
    }
    for status in ("400", "422", "503"):
        assert "application/problem+json" in top_up["responses"][status]["content"]
    assert set(component(top_up["responses"]["201"])["properties"]) == {
        "id",
        "status",
        "amount",
        "currency",
        "provider",
        "checkout_url",
        "created_at",
        "expires_at",
        "resolved_at",
        "failure_reason",
        "transaction",
        "wallet",
    }
    refused = component(top_up["responses"]["422"], "application/problem+json")
    assert {"limit", "period"} <= set(refused["properties"])
    period = refused["properties"]["period"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert components[period]["enum"] == ["day", "month", "balance"]
    wallet = paths["/api/v1/me/wallet"]["get"]["responses"]["200"]
    assert {"top_up_limit", "withdrawal_limit", "payout_destination"} <= set(
        component(wallet)["properties"]
    )
    withdraw = paths["/api/v1/me/withdrawals"]["post"]
    assert {p["name"] for p in withdraw["parameters"]} == {"Idempotency-Key"}
    assert set(withdraw["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
        "503",
    }
    transactions = paths["/api/v1/me/transactions"]["get"]
    assert {p["name"] for p in transactions["parameters"]} >= {"kind", "since", "until", "page"}
    page_ref = transactions["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][page_ref.rsplit("/", 1)[1]]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}


def test_schema_generation_reports_no_warnings_or_errors():
    from django.core.management import call_command

    # --fail-on-warn turns drf-spectacular's warnings into a failure
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", "/dev/null")


def test_swagger_ui_is_served_with_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_schema_yaml_parses(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_every_citizen_list_documents_404_past_the_last_page(client, django_user_model):
    """Lists answer 404 for a page past the last (DRF's pagination), and their schema
    says so (it did not, so the answer was an undocumented status)."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    lists = {
        path: operations["get"]
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/me/")
        and "get" in operations
        and {"page", "page_size"} <= {p["name"] for p in operations["get"].get("parameters", [])}
    }
    assert set(lists) >= {
        "/api/v1/me/transactions",
        "/api/v1/me/score/history",
        "/api/v1/me/events",
        "/api/v1/me/disputes",
        "/api/v1/me/access-log",
        "/api/v1/me/consents",
        "/api/v1/me/bookings",
        "/api/v1/me/claims",
    }
    for path, operation in lists.items():
        assert "application/problem+json" in operation["responses"]["404"]["content"], path


def test_the_schema_documents_the_fields_that_spare_clients_reading_english(client):
    """Typed fields beside the English texts: the overdue instant, the server's date,
    the currency's decimals, descriptions and perks' notes as codes."""
    schemas = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "components"
    ]["schemas"]

    def properties(name: str) -> dict:
        return schemas[name]["properties"]

    assert properties("CitizenBillOutput")["overdue_at"]["format"] == "date-time"
    assert properties("BillOutput")["overdue_at"]["format"] == "date-time"
    assert properties("MeOutput")["business_date"]["format"] == "date"
    assert properties("MeOutput")["time_zone"]["type"] == "string"
    assert properties("WalletOutput")["currency_decimals"]["type"] == "integer"
    assert properties("WalletOutput")["max_top_up"]["type"] == "integer"
    for name in ("TransactionOutput", "EventOutput"):
        assert "description_code" in properties(name)
        assert properties(name)["description_params"]["type"] == "object"
    assert "to_qualify_note_code" in properties("PerkViewOutput")
    assert properties("PerkQualifyStepOutput")["waits_for"]["type"] == "array"
