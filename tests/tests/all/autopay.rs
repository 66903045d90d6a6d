//! Saved cards (G-4), AutoPay charges (G-5) and dunning (G-6) against a Stripe-compatible
//! server: localstripe, started by `.ci/run` and named in `AMS_TEST_STRIPE_URL`. Without it
//! the tests that need a provider say so and pass over.

use chrono::{Datelike, Days, NaiveDate, Utc};
use serde_json::{Value, json};
use tests::{TestApp, id, spawn, spawn_beside, spawn_with};

use crate::online::{SECRET_KEY, WEBHOOK_SECRET, deliver, provider_url};

const CYCLE: &str = "AutoPay renewals";
/// Charged without a fuss.
const GOOD_CARD: &str = "4242424242424242";
/// Saved without a fuss, declined when charged (localstripe's `chargeCustomerFail`).
const DECLINED_CARD: &str = "4000000000000341";

fn with_provider(url: &str) -> impl FnOnce(&mut api::config::Config) + use<> {
    let url = url.to_owned();
    move |c| {
        c.stripe_api_base = url;
        c.stripe_secret_key = Some(SECRET_KEY.into());
        c.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
    }
}

/// E-1 billed annually with the renewal cycle `CYCLE` for type `M`.
async fn renewals(app: &TestApp) {
    app.doctors().await;
    app.set_settings(
        json!({"default_billing_time": "annual", "fiscal_year_start_month": 1,
        "default_accounting_method": "accrual"}),
    )
    .await;
    app.create_cycle(json!({"name": CYCLE, "customer_types": ["M"]}))
        .await;
}

/// A member of type `M` holding MDUES through 2026-12-31, with AutoPay as given.
async fn member(app: &TestApp, last: &str, autopay: bool) -> i64 {
    let c = id(&app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Pat", "last_name": last, "autopay": autopay,
            "email": format!("{}@example.org", last.to_lowercase())}))
        .await);
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2026-12-31", "bill_subscription": true}),
    )
    .await
    .expect(201);
    c
}

async fn provider_post(url: &str, path: &str, form: &[(&str, String)]) -> Value {
    reqwest::Client::new()
        .post(format!("{url}{path}"))
        .basic_auth(SECRET_KEY, Some(""))
        .form(form)
        .send()
        .await
        .expect("provider")
        .json()
        .await
        .expect("json")
}

async fn provider_get(url: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{url}{path}"))
        .basic_auth(SECRET_KEY, Some(""))
        .send()
        .await
        .expect("provider")
        .json()
        .await
        .expect("json")
}

/// The member saves `number` the way a front end does: a setup intent from the server, the
/// card typed into the provider's form (it goes to the provider only), then the server keeps
/// the confirmed card. Returns the saved method and the setup intent.
async fn save_card(app: &TestApp, url: &str, token: &str, number: &str) -> (Value, Value) {
    let setup = app
        .post("/me/payment-methods/setup-intent", token, json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(setup["provider"], "stripe");
    let seti = setup["setup_intent_id"].as_str().expect("id").to_owned();
    let confirmed = provider_post(
        url,
        &format!("/v1/setup_intents/{seti}/confirm"),
        &[
            ("payment_method_data[type]", "card".into()),
            ("payment_method_data[card][number]", number.into()),
            ("payment_method_data[card][exp_month]", "12".into()),
            ("payment_method_data[card][exp_year]", "2031".into()),
            ("payment_method_data[card][cvc]", "123".into()),
        ],
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let saved = app
        .post(
            "/me/payment-methods",
            token,
            json!({"setup_intent_id": seti}),
        )
        .await
        .expect(201)
        .body;
    (saved, setup)
}

/// The charges the provider made to `customer`.
async fn provider_charges(url: &str, customer: &str) -> Vec<Value> {
    provider_get(url, &format!("/v1/charges?customer={customer}&limit=100")).await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn charges(app: &TestApp, invoice: i64) -> Vec<Value> {
    app.get(&format!("/invoices/{invoice}/charges"), &app.staff)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The charge attempts of `invoice` once its charges in progress have ended.
async fn settled_charges(app: &TestApp, invoice: i64) -> Vec<Value> {
    for _ in 0..200 {
        let items = charges(app, invoice).await;
        let busy = items.iter().any(|a| {
            a["status"] == "processing" || (a["status"] == "scheduled" && a["attempt"] == 1)
        });
        if !items.is_empty() && !busy {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the charges of invoice {invoice} did not settle: {:?}",
        charges(app, invoice).await
    )
}

async fn renewal_invoice(app: &TestApp, c: i64) -> Value {
    app.all(&format!("/contacts/{c}/invoices"))
        .await
        .into_iter()
        .find(|i| i["kind"] == "renewal")
        .expect("a renewal invoice")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_later(n: u64) -> String {
    today()
        .checked_add_days(Days::new(n))
        .expect("date")
        .to_string()
}

async fn run_charges(app: &TestApp, as_of: &str) -> Value {
    app.post("/autopay/charges/run", &app.staff, json!({"as_of": as_of}))
        .await
        .expect(200)
        .body
}

/// Who an expiry as of 2027-06-01 would expire (a preview).
async fn would_expire(app: &TestApp) -> Vec<i64> {
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": "2027-06-01", "dry_run": true}),
    )
    .await
    .expect(200)
    .body["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .filter_map(|c| c["contact_id"].as_i64())
        .collect()
}

/// G-1, G-4, G-6: unconfigured, saving cards and charging answer 503; the dunning schedule is
/// a setting like any other.
#[tokio::test]
async fn g4_g6_unconfigured_cards_answer_503_and_the_schedule_is_kept() {
    let app = spawn().await;
    app.doctors().await;
    let c = app.person("NM", "Cardless").await;
    let me = app.member_token(c).await;
    app.post("/me/payment-methods/setup-intent", &me, json!({}))
        .await
        .problem(503, "payments_not_configured");
    app.post("/autopay/charges/run", &app.staff, json!({}))
        .await
        .problem(503, "payments_not_configured");
    let items = app.get("/me/payment-methods", &me).await.expect(200).body;
    assert_eq!(items["items"], json!([]));
    app.put("/me/autopay", &me, json!({"autopay": true}))
        .await
        .problem(409, "conflict");
    let d = app.get("/settings/dunning", &app.staff).await.expect(200);
    assert_eq!(d.body["retry_days"], json!([3, 5, 7]));
    for bad in [json!([1, 2, 3, 4]), json!([5, 3]), json!([0]), json!([61])] {
        app.put("/settings/dunning", &app.staff, json!({"retry_days": bad}))
            .await
            .problem(422, "validation_failed");
    }
    app.put("/settings/dunning", &me, json!({"retry_days": [2]}))
        .await
        .problem(403, "forbidden");
    let d = app
        .put(
            "/settings/dunning",
            &app.staff,
            json!({"retry_days": [2, 4]}),
        )
        .await
        .expect(200);
    assert_eq!(d.body["retry_days"], json!([2, 4]));
    let d = app.get("/settings/dunning", &app.staff).await.expect(200);
    assert_eq!(d.body["retry_days"], json!([2, 4]));
}

/// G-4: a member saves cards through setup intents (only brand, last four digits and expiry
/// kept), the newest is the default, AutoPay needs one and follows the default, another
/// member cannot touch them, the provider's `setup_intent.succeeded` saves a card too, and
/// removing the last card turns AutoPay off.
#[tokio::test]
async fn g4_saved_cards_set_up_listed_removed_and_autopay_follows_the_default() {
    let Some(url) = provider_url() else { return };
    let app = spawn_with(with_provider(&url)).await;
    app.doctors().await;
    let c = app.person("NM", "Holder").await;
    let me = app.member_token(c).await;
    app.put("/me/autopay", &me, json!({"autopay": true}))
        .await
        .problem(409, "conflict");
    let (first, setup) = save_card(&app, &url, &me, GOOD_CARD).await;
    assert_eq!(first["brand"], "visa");
    assert_eq!(first["last4"], "4242");
    assert_eq!(first["exp_month"], 12);
    assert_eq!(first["exp_year"], 2031);
    assert_eq!(first["is_default"], true);
    assert!(!first.to_string().contains(GOOD_CARD), "no card number");
    // Saved once however often the front end says so.
    app.post(
        "/me/payment-methods",
        &me,
        json!({"setup_intent_id": setup["setup_intent_id"]}),
    )
    .await
    .expect(201);
    let (second, _) = save_card(&app, &url, &me, DECLINED_CARD).await;
    assert_eq!(second["last4"], "0341");
    let list = app.get("/me/payment-methods", &me).await.expect(200).body["items"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list[0]["id"], second["id"], "the newest is the default");
    assert_eq!(list[0]["is_default"], true);
    assert_eq!(list[1]["is_default"], false);
    // The card is at the provider, under the member's customer.
    let pm = provider_get(
        &url,
        &format!(
            "/v1/payment_methods/{}",
            second["provider_id"].as_str().unwrap_or("")
        ),
    )
    .await;
    assert_eq!(pm["customer"], setup["customer_id"]);
    // AutoPay on, and back to the first card.
    let on = app
        .put("/me/autopay", &me, json!({"autopay": true}))
        .await
        .expect(200);
    assert_eq!(on.body["autopay"], true);
    assert_eq!(app.contact(c).await["autopay"], true);
    let chosen = app
        .patch(
            &format!("/me/payment-methods/{}", id(&first)),
            &me,
            json!({"is_default": true}),
        )
        .await
        .expect(200);
    assert_eq!(chosen.body["is_default"], true);
    let staff_view = app
        .get(&format!("/contacts/{c}/payment-methods"), &app.staff)
        .await
        .expect(200)
        .body["items"]
        .clone();
    assert_eq!(staff_view[0]["id"], first["id"]);
    // Another member sees none of it and removes nothing.
    let other = app.person("NM", "Other").await;
    let them = app.member_token(other).await;
    assert_eq!(
        app.get("/me/payment-methods", &them).await.expect(200).body["items"],
        json!([])
    );
    app.delete(&format!("/me/payment-methods/{}", id(&first)), &them)
        .await
        .problem(404, "not_found");
    app.post(
        "/me/payment-methods",
        &them,
        json!({"setup_intent_id": setup["setup_intent_id"]}),
    )
    .await
    .problem(409, "conflict");
    // Removing the default makes the other card the default; removing the last turns
    // AutoPay off.
    app.delete(&format!("/me/payment-methods/{}", id(&first)), &me)
        .await
        .expect(204);
    let list = app.get("/me/payment-methods", &me).await.expect(200).body["items"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], second["id"]);
    assert_eq!(list[0]["is_default"], true);
    assert_eq!(app.contact(c).await["autopay"], true);
    app.delete(&format!("/me/payment-methods/{}", id(&second)), &me)
        .await
        .expect(204);
    assert_eq!(app.contact(c).await["autopay"], false);
    let detached = provider_get(
        &url,
        &format!(
            "/v1/payment_methods/{}",
            second["provider_id"].as_str().unwrap_or("")
        ),
    )
    .await;
    assert!(detached["customer"].is_null(), "{detached}");
    // The provider's event saves a card set up without the front end's call.
    let setup = app
        .post("/me/payment-methods/setup-intent", &me, json!({}))
        .await
        .expect(200)
        .body;
    let seti = setup["setup_intent_id"].as_str().unwrap_or_default();
    let confirmed = provider_post(
        &url,
        &format!("/v1/setup_intents/{seti}/confirm"),
        &[("payment_method", "pm_card_visa".into())],
    )
    .await;
    let event = json!({"id": format!("evt_seti_{seti}"), "object": "event",
        "type": "setup_intent.succeeded", "data": {"object": confirmed}});
    for _ in 0..3 {
        deliver(&app, &event, WEBHOOK_SECRET, None)
            .await
            .expect(200);
    }
    let list = app.get("/me/payment-methods", &me).await.expect(200).body["items"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["provider_id"], confirmed["payment_method"]);
}

/// G-5 (and I-5): posting an AutoPay batch charges each invoice once with its payer's default
/// card, also when two servers post it at once and when it is posted or run again; a success
/// records the payment and renews, a decline and a payer without a card start dunning, and
/// expiry (L-1) leaves members alone while a retry is scheduled.
#[tokio::test]
async fn g5_posting_a_batch_charges_each_invoice_once_even_posted_twice_on_two_servers() {
    let Some(url) = provider_url() else { return };
    let app = spawn_with(with_provider(&url)).await;
    let twin = spawn_beside(&app, with_provider(&url)).await;
    renewals(&app).await;
    let good = member(&app, "Good", true).await;
    let bad = member(&app, "Declined", true).await;
    let cardless = member(&app, "Cardless", true).await;
    let manual = member(&app, "Manual", false).await;
    let (_, good_setup) = save_card(&app, &url, &app.member_token(good).await, GOOD_CARD).await;
    let (_, bad_setup) = save_card(&app, &url, &app.member_token(bad).await, DECLINED_CARD).await;
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": CYCLE, "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let batch = app
        .get(&format!("/renewal-runs/{}", id(&run)), &app.staff)
        .await
        .expect(200)
        .body["batch_id"]
        .as_i64()
        .expect("batch");
    let path = format!("/batches/{batch}/post");
    let (a, b) = tokio::join!(
        app.post(&path, &app.staff, json!({})),
        twin.post(&path, &twin.staff, json!({}))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "one post, one conflict");
    app.post(&path, &app.staff, json!({}))
        .await
        .problem(409, "conflict");

    let good_inv = renewal_invoice(&app, good).await;
    let attempts = settled_charges(&app, id(&good_inv)).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0]["status"], "succeeded");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["amount"], "500.00");
    let paid = app.invoice(id(&good_inv)).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(app.paid_through(good).await, "2027-12-31");
    let payment = app
        .get(
            &format!("/payments/{}", attempts[0]["payment_id"]),
            &app.staff,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(payment["method"], "card");
    assert_eq!(payment["reference"], attempts[0]["provider_intent_id"]);

    let bad_inv = renewal_invoice(&app, bad).await;
    let attempts = settled_charges(&app, id(&bad_inv)).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["decline_code"], "card_declined");
    assert_eq!(attempts[1]["status"], "scheduled");
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["due_on"], days_later(3));
    assert_eq!(app.invoice(id(&bad_inv)).await["status"], "open");

    let cardless_inv = renewal_invoice(&app, cardless).await;
    let attempts = settled_charges(&app, id(&cardless_inv)).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["decline_code"], "no_payment_method");
    assert!(
        attempts[0]["amount"].is_null(),
        "nothing was asked of the provider"
    );

    // Running again today, from either server, charges nothing more.
    for server in [&app, &twin] {
        let again = run_charges(server, &today().to_string()).await;
        assert_eq!(again["attempted"], 0, "{again}");
    }
    let charged = |setup: &Value| setup["customer_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(provider_charges(&url, &charged(&good_setup)).await.len(), 1);
    assert_eq!(provider_charges(&url, &charged(&bad_setup)).await.len(), 1);

    let failed = app.events_of("invoice.charge_failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|e| e["data"]["final"] == false));
    // L-1 holds the two in dunning; the member who pays by hand expires as ever.
    let expiring = would_expire(&app).await;
    assert!(expiring.contains(&manual), "{expiring:?}");
    assert!(
        !expiring.contains(&bad) && !expiring.contains(&cardless),
        "{expiring:?}"
    );
    assert!(!expiring.contains(&good));
}

/// G-6: retries on the schedule from settings, each with its decline code; a new card is tried
/// at once; after the last failure the invoice is an ordinary open invoice (no more attempts,
/// the final `invoice.charge_failed`), and expiry treats it as any other.
#[tokio::test]
async fn g6_dunning_retries_on_schedule_a_new_card_at_once_and_ends_after_the_last() {
    let Some(url) = provider_url() else { return };
    let app = spawn_with(with_provider(&url)).await;
    renewals(&app).await;
    app.put(
        "/settings/dunning",
        &app.staff,
        json!({"retry_days": [2, 4]}),
    )
    .await
    .expect(200);
    let rescued = member(&app, "Rescued", true).await;
    let lapsed = member(&app, "Lapsed", true).await;
    let rescued_me = app.member_token(rescued).await;
    save_card(&app, &url, &rescued_me, DECLINED_CARD).await;
    save_card(&app, &url, &app.member_token(lapsed).await, DECLINED_CARD).await;
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": CYCLE, "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201)
        .body;
    let batch = app
        .get(&format!("/renewal-runs/{}", id(&run)), &app.staff)
        .await
        .expect(200)
        .body["batch_id"]
        .as_i64()
        .expect("batch");
    app.post(&format!("/batches/{batch}/post"), &app.staff, json!({}))
        .await
        .expect(200);
    let rescued_inv = id(&renewal_invoice(&app, rescued).await);
    let lapsed_inv = id(&renewal_invoice(&app, lapsed).await);
    settled_charges(&app, rescued_inv).await;
    settled_charges(&app, lapsed_inv).await;
    // Nothing is due before the first retry's day.
    assert_eq!(run_charges(&app, &days_later(1)).await["attempted"], 0);
    let second = run_charges(&app, &days_later(2)).await;
    assert_eq!(second["attempted"], 2, "{second}");
    assert_eq!(second["failed"], 2);
    let attempts = charges(&app, rescued_inv).await;
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert_eq!(attempts[1]["status"], "failed");
    assert_eq!(attempts[1]["decline_code"], "card_declined");
    assert_eq!(attempts[2]["status"], "scheduled");
    assert_eq!(attempts[2]["due_on"], days_later(4));

    // A new card: the scheduled retry is made at once, and pays.
    let (card, _) = save_card(&app, &url, &rescued_me, GOOD_CARD).await;
    let attempts = charges(&app, rescued_inv).await;
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert_eq!(attempts[2]["status"], "succeeded");
    assert_eq!(attempts[2]["payment_method"], card["provider_id"]);
    assert_eq!(app.invoice(rescued_inv).await["status"], "paid");
    assert_eq!(app.paid_through(rescued).await, "2027-12-31");

    // The last attempt fails: dunning is over.
    let last = run_charges(&app, &days_later(4)).await;
    assert_eq!(last["attempted"], 1, "{last}");
    let attempts = charges(&app, lapsed_inv).await;
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(attempts.iter().all(|a| a["status"] == "failed"));
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["attempt"].clone())
            .collect::<Vec<_>>(),
        vec![json!(1), json!(2), json!(3)]
    );
    assert_eq!(app.invoice(lapsed_inv).await["status"], "open");
    assert_eq!(run_charges(&app, &days_later(30)).await["attempted"], 0);
    let finals: Vec<Value> = app
        .events_of("invoice.charge_failed")
        .await
        .into_iter()
        .filter(|e| e["data"]["final"] == true)
        .collect();
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert_eq!(finals[0]["data"]["invoice_id"], lapsed_inv);
    assert_eq!(finals[0]["data"]["attempt"], 3);
    assert!(would_expire(&app).await.contains(&lapsed));
    // N-1: the member is told, once, that dunning is over.
    let told = app
        .get(
            &format!("/notices?kind=payment_failed&invoice_id={lapsed_inv}"),
            &app.staff,
        )
        .await
        .expect(200)
        .body["items"]
        .clone();
    assert_eq!(told.as_array().map(Vec::len), Some(1), "{told}");
    assert_eq!(told[0]["contact_id"], lapsed);
}

/// S-11, G-5: an AutoPay payer's instalment parts are charged on their day, each once; the
/// first paid part starts the membership.
#[tokio::test]
async fn s11_g5_instalment_parts_of_an_autopay_payer_are_charged_on_their_day() {
    let Some(url) = provider_url() else { return };
    let app = spawn_with(with_provider(&url)).await;
    app.doctors_with_join_cycle("Online join").await;
    let c = app.person("NM", "Parts").await;
    let me = app.member_token(c).await;
    let (_, setup) = save_card(&app, &url, &me, GOOD_CARD).await;
    app.put("/me/autopay", &me, json!({"autopay": true}))
        .await
        .expect(200);
    let inv = app
        .post(
            &format!("/contacts/{c}/join"),
            &app.staff,
            json!({"billing_cycle": "Online join", "billing_category": "REG"}),
        )
        .await
        .expect(201)
        .body;
    let day = today().day().min(28);
    let planned = app
        .post(
            &format!("/invoices/{}/instalments", id(&inv)),
            &app.staff,
            json!({"parts": 3, "day_of_month": day}),
        )
        .await
        .expect(200)
        .body;
    let parts = planned["instalments"].as_array().expect("parts").clone();
    let first_due = parts[0]["due_on"].as_str().expect("due").to_owned();
    let second_due = parts[1]["due_on"].as_str().expect("due").to_owned();
    let before = NaiveDate::parse_from_str(&first_due, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.pred_opt())
        .expect("day before");
    assert_eq!(run_charges(&app, &before.to_string()).await["attempted"], 0);
    let first = run_charges(&app, &first_due).await;
    assert_eq!(first["scheduled_parts"], 1, "{first}");
    assert_eq!(first["succeeded"], 1, "{first}");
    assert_eq!(run_charges(&app, &first_due).await["attempted"], 0);
    let after_first = app.invoice(id(&inv)).await;
    assert_eq!(after_first["paid"], parts[0]["amount"]);
    assert!(
        !app.paid_through(c).await.is_null(),
        "the first part starts the membership"
    );
    let second = run_charges(&app, &second_due).await;
    assert_eq!(second["succeeded"], 1, "{second}");
    let attempts = charges(&app, id(&inv)).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["part"], 1);
    assert_eq!(attempts[0]["amount"], parts[0]["amount"]);
    assert_eq!(attempts[1]["part"], 2);
    assert_eq!(attempts[1]["amount"], parts[1]["amount"]);
    let customer = setup["customer_id"].as_str().unwrap_or_default();
    assert_eq!(provider_charges(&url, customer).await.len(), 2);
}
