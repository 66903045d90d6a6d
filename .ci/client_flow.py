"""A member's first year through the Python client generated from openapi/openapi.json
(openapi-python-client, package `ams_client`): staff signs in and finds (or sets up) a billing
cycle for joining as `M`, a person registers and signs in, joins through `/me/join`, pays the
join invoice online (G-2, G-3) when a provider is configured (else staff records the payment),
and reads back a membership subscription paid through a date in the future. Only the
provider's side is raw HTTP: the card goes to the provider (localstripe stands in for
Stripe.js), and the provider's signed event reaches the server as Stripe sends it. Run by
.ci/clients against a server on the E-1 example data.

usage: client_flow.py BASE_URL   (the staff password is read from AMS_ADMIN_PASSWORD; online
payment when AMS_TEST_STRIPE_URL, AMS_STRIPE_SECRET_KEY and AMS_STRIPE_WEBHOOK_SECRET are set)
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import traceback
import urllib.parse
import urllib.request
import uuid

from ams_client import AuthenticatedClient, Client
from ams_client.api.auth import create_token, register
from ams_client.api.billing import create_billing_cycle, list_billing_cycles
from ams_client.api.invoices import pay_invoice
from ams_client.api.self_service import (
    create_my_payment_intent,
    get_me,
    join_me,
    list_my_subscriptions,
)
from ams_client.models import (
    ContactDto,
    CycleDto,
    CycleList,
    JoinRequestDto,
    JoinResponseDto,
    NewCycleDto,
    NewPaymentDto,
    PaymentIntentDto,
    PaymentResponseDto,
    RegisterRequest,
    RegisterResponse,
    SubscriptionList,
    TokenRequest,
    TokenResponse,
)
from ams_client.types import Response

MEMBER_TYPE = "M"
CATEGORY = "REG"


class FlowError(Exception):
    pass


def expect(step: str, response: Response, status: int, model: type):
    """The parsed body of `response`, which must have `status` and parse as `model`."""
    if response.status_code != status:
        raise FlowError(
            f"{step}: expected HTTP {status}, got {int(response.status_code)}: "
            f"{response.content.decode(errors='replace')[:500]}"
        )
    if not isinstance(response.parsed, model):
        raise FlowError(
            f"{step}: the client parsed the body as {type(response.parsed).__name__}, not {model.__name__}"
        )
    print(f"ok  {step} (HTTP {status})")
    return response.parsed


def sign_in(base: str, username: str, password: str, step: str) -> AuthenticatedClient:
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    body = TokenRequest(username=username, password=password)
    tokens = expect(step, create_token.sync_detailed(client=anonymous, body=body), 200, TokenResponse)
    return AuthenticatedClient(base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)


def join_cycle(staff: AuthenticatedClient) -> CycleDto:
    """A cycle usable for joining as a member: the example's own if it has one, else a new one."""
    cycles = expect(
        "staff lists billing cycles",
        list_billing_cycles.sync_detailed(client=staff, limit=200),
        200,
        CycleList,
    )
    for cycle in cycles.items:
        if cycle.join_item_set and cycle.customer_types == [MEMBER_TYPE]:
            print(f"    using billing cycle {cycle.id} ({cycle.name})")
            return cycle
    body = NewCycleDto(
        name=f"Client flow joins {uuid.uuid4().hex[:8]}",
        customer_types=[MEMBER_TYPE],
        join_item_set=True,
    )
    cycle = expect(
        "staff creates a join cycle for customer type M",
        create_billing_cycle.sync_detailed(client=staff, body=body),
        201,
        CycleDto,
    )
    print(f"    billing cycle {cycle.id} ({cycle.name})")
    return cycle


def main() -> None:
    if len(sys.argv) != 2:
        raise FlowError("usage: client_flow.py BASE_URL")
    base = sys.argv[1].rstrip("/")
    admin_password = os.environ.get("AMS_ADMIN_PASSWORD")
    if not admin_password:
        raise FlowError("AMS_ADMIN_PASSWORD is not set")
    today = datetime.date.today()

    staff = sign_in(base, "admin", admin_password, "staff signs in")
    cycle = join_cycle(staff)

    suffix = uuid.uuid4().hex[:8]
    username, password = f"client-flow-{suffix}", f"client flow passphrase {suffix}"
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    registration = expect(
        "a person registers",
        register.sync_detailed(
            client=anonymous,
            body=RegisterRequest(
                username=username,
                password=password,
                first_name="Flow",
                last_name=f"Tester {suffix}",
                email=f"{username}@example.org",
            ),
        ),
        201,
        RegisterResponse,
    )
    contact_id = registration.contact.id
    print(f"    contact {contact_id}, customer type {registration.contact.customer_type}")
    if registration.contact.is_member:
        raise FlowError(f"a new registration is already a member: {registration.contact.to_dict()}")

    member = sign_in(base, username, password, "the new member signs in")
    invoice = expect(
        "the member joins",
        join_me.sync_detailed(
            client=member,
            body=JoinRequestDto(billing_cycle=cycle.id, billing_category=CATEGORY),
            idempotency_key=f"client-flow-join-{suffix}",
        ),
        201,
        JoinResponseDto,
    )
    if not isinstance(invoice.id, int):
        raise FlowError(f"the join returned no invoice id: {invoice.to_dict()}")
    print(
        f"    invoice {invoice.id}: {invoice.status}, total {invoice.total}, "
        f"term {invoice.term_begin}..{invoice.term_end}"
    )

    if os.environ.get("AMS_TEST_STRIPE_URL"):
        pay_online(base, member, invoice.id, suffix)
    else:
        pay_by_hand(staff, invoice, today, suffix)

    subscriptions = expect(
        "the member reads their subscriptions",
        list_my_subscriptions.sync_detailed(client=member),
        200,
        SubscriptionList,
    )
    check_membership(member, subscriptions, today)


def pay_by_hand(staff: AuthenticatedClient, invoice: JoinResponseDto, today, suffix: str) -> None:
    payment = expect(
        "staff records the payment in full",
        pay_invoice.sync_detailed(
            invoice.id,
            client=staff,
            body=NewPaymentDto(
                amount=invoice.balance, paid_on=today, method="card", reference=f"flow-{suffix}"
            ),
            idempotency_key=f"client-flow-payment-{suffix}",
        ),
        201,
        PaymentResponseDto,
    )
    if payment.invoice.status != "paid":
        raise FlowError(f"the invoice is {payment.invoice.status!r} after paying its balance, not 'paid'")
    print(f"    invoice {payment.invoice.id}: {payment.invoice.status}, balance {payment.invoice.balance}")


def provider(path: str, form: dict) -> dict:
    """A call to the payment provider, as the member's browser (Stripe.js) would make it."""
    url = os.environ["AMS_TEST_STRIPE_URL"].rstrip("/") + path
    key = os.environ["AMS_STRIPE_SECRET_KEY"]
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:".encode()).decode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def pay_online(base: str, member: AuthenticatedClient, invoice_id: int, suffix: str) -> None:
    """G-2, G-3: the member's intent, the card at the provider, the provider's signed event."""
    intent = expect(
        "the member asks to pay online",
        create_my_payment_intent.sync_detailed(invoice_id, client=member),
        200,
        PaymentIntentDto,
    )
    print(f"    intent {intent.payment_intent_id} for {intent.amount} {intent.currency}")
    method = provider(
        "/v1/payment_methods",
        {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
         "card[exp_year]": "2031", "card[cvc]": "123"},
    )
    provider(f"/v1/payment_intents/{intent.payment_intent_id}", {"payment_method": method["id"]})
    confirmed = provider(f"/v1/payment_intents/{intent.payment_intent_id}/confirm", {})
    if confirmed.get("status") != "succeeded":
        raise FlowError(f"the provider did not confirm the payment: {confirmed}")
    body = json.dumps({"id": f"evt_client_flow_{suffix}", "object": "event",
                       "type": "payment_intent.succeeded", "data": {"object": confirmed}}).encode()
    t = str(int(time.time()))
    secret = os.environ["AMS_STRIPE_WEBHOOK_SECRET"].encode()
    signature = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    event = urllib.request.Request(
        f"{base}/api/v1/payment-provider/stripe/events", data=body, method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={signature}"},
    )
    with urllib.request.urlopen(event) as response:
        ack = json.load(response)
    if "payment" not in ack.get("outcome", ""):
        raise FlowError(f"the provider's event recorded no payment: {ack}")
    print(f"ok  the provider's signed event: {ack['outcome']}")


def check_membership(member: AuthenticatedClient, subscriptions: SubscriptionList, today) -> None:
    membership = [s for s in subscriptions.items if s.is_membership_component]
    if not membership:
        raise FlowError(
            f"no membership subscription after payment: {[s.to_dict() for s in subscriptions.items]}"
        )
    paid_through = membership[0].paid_through
    if not isinstance(paid_through, datetime.date):
        raise FlowError(f"the membership subscription has no paid-through date: {membership[0].to_dict()}")
    if paid_through <= today:
        raise FlowError(f"paid-through {paid_through} is not in the future (today is {today})")
    print(f"    subscription {membership[0].id} ({membership[0].product}) paid through {paid_through}")

    me = expect("the member reads their contact", get_me.sync_detailed(client=member), 200, ContactDto)
    if not me.is_member or me.customer_type != MEMBER_TYPE or me.paid_through != paid_through:
        raise FlowError(
            f"the contact after payment is type {me.customer_type!r}, member {me.is_member}, "
            f"paid through {me.paid_through}; expected {MEMBER_TYPE!r}, True, {paid_through}"
        )
    print(f"    contact {me.id}: type {me.customer_type}, paid through {me.paid_through}")
    print("client flow passed")


if __name__ == "__main__":
    try:
        main()
    except FlowError as error:
        print(f"client flow FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 (an exception from the generated client: a broken flow too)
        traceback.print_exc()
        print(f"client flow FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
