//! Reports A-1..A-3 over HTTP. Timestamps the API sets to "now" are moved into the past
//! through the database, to report on fixed dates.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, id, spawn};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("timestamp")
        .with_timezone(&Utc)
}

async fn typed(app: &TestApp, ty: &str, category: Option<&str>, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for k in 0..n {
        let mut body = if ty == "HOSP" {
            json!({"customer_type": ty, "organization_name": format!("Org {k}")})
        } else {
            json!({"customer_type": ty, "first_name": "Al", "last_name": format!("{ty} {k}")})
        };
        if let Some(c) = category {
            body["billing_category"] = json!(c);
        }
        out.push(id(&app.create_contact(body).await));
    }
    out
}

async fn set_contact_times(
    app: &TestApp,
    ids: &[i64],
    column: entity::contact::Column,
    when: &str,
) {
    entity::contact::Entity::update_many()
        .col_expr(column, Expr::value(at(when)))
        .filter(entity::contact::Column::Id.is_in(ids.to_vec()))
        .exec(&app.db.conn)
        .await
        .expect("backdate contacts");
}

// ----------------------------------------------------------------

#[tokio::test]
async fn a1_membership_mix_counts_combinations_with_shares_and_flags() {
    let app = spawn().await;
    app.doctors().await;
    typed(&app, "M", Some("REG"), 5).await;
    typed(&app, "M", Some("FYEAR"), 1).await;
    let nm = typed(&app, "NM", None, 3).await;
    typed(&app, "HOSP", None, 1).await;
    let r = app
        .get("/reports/membership-mix", &app.staff)
        .await
        .expect(200);
    assert_eq!(
        r.body,
        json!([
            {"customer_type": "M", "billing_category": "REG", "count": 5, "share": 0.5, "flagged": true},
            {"customer_type": "NM", "billing_category": null, "count": 3, "share": 0.3, "flagged": true},
            {"customer_type": "HOSP", "billing_category": null, "count": 1, "share": 0.1, "flagged": false},
            {"customer_type": "M", "billing_category": "FYEAR", "count": 1, "share": 0.1, "flagged": false},
        ])
    );
    // Records untouched for more than 5 years drop out of the recent view.
    set_contact_times(
        &app,
        &nm[..2],
        entity::contact::Column::UpdatedAt,
        "2015-01-01T00:00:00Z",
    )
    .await;
    let recent = app
        .get("/reports/membership-mix?recent=true", &app.staff)
        .await
        .expect(200);
    let rows = recent.body.as_array().expect("rows");
    let total: i64 = rows
        .iter()
        .map(|r| r["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(total, 8);
    let m_reg = rows
        .iter()
        .find(|r| r["customer_type"] == "M" && r["billing_category"] == "REG")
        .expect("M/REG");
    assert_eq!(m_reg["share"], 0.625);
    let nm_row = rows
        .iter()
        .find(|r| r["customer_type"] == "NM")
        .expect("NM");
    assert_eq!(
        (nm_row["count"].clone(), nm_row["flagged"].clone()),
        (json!(1), json!(false))
    );
    let wide = app
        .get("/reports/membership-mix?active_within_years=20", &app.staff)
        .await
        .expect(200);
    let total: i64 = wide
        .body
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(total, 10);
    app.get("/reports/membership-mix?active_within_years=0", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

// ----------------------------------------------------------------

#[tokio::test]
async fn a2_membership_counts_at_a_date_follow_each_contacts_type_history() {
    let app = spawn().await;
    app.doctors().await;
    let lapsing = typed(&app, "M", Some("REG"), 1).await[0];
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": lapsing, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2025-12-31"}),
    )
    .await
    .expect(201);
    let mut early = vec![lapsing];
    early.extend(typed(&app, "M", Some("REG"), 1).await);
    early.extend(typed(&app, "NM", None, 1).await);
    early.extend(typed(&app, "HOSP", None, 1).await);
    set_contact_times(
        &app,
        &early,
        entity::contact::Column::CreatedAt,
        "2025-01-01T00:00:00Z",
    )
    .await;
    entity::user::Entity::update_many()
        .col_expr(
            entity::user::Column::CreatedAt,
            Expr::value(at("2025-01-01T00:00:00Z")),
        )
        .exec(&app.db.conn)
        .await
        .expect("backdate users");
    app.post(
        "/membership/expire",
        &app.staff,
        json!({"as_of": "2026-06-01"}),
    )
    .await
    .expect(200);
    // The expiry happened on 2026-06-01.
    entity::contact_history::Entity::update_many()
        .col_expr(
            entity::contact_history::Column::At,
            Expr::value(at("2026-06-01T08:00:00Z")),
        )
        .exec(&app.db.conn)
        .await
        .expect("date the expiry");
    typed(&app, "NM", None, 1).await;

    let counts = |as_of: &'static str| {
        let app = &app;
        async move {
            app.get(
                &format!("/reports/membership-counts?as_of={as_of}"),
                &app.staff,
            )
            .await
            .expect(200)
            .body
        }
    };
    let before = counts("2026-05-31").await;
    assert_eq!(before["as_of"], "2026-05-31");
    for (k, v) in [
        ("members", 2),
        ("non_members", 2),
        ("organizations", 1),
        ("member_organizations", 0),
        ("persons", 3),
        ("member_persons", 2),
        ("staff", 1),
        ("total", 4),
    ] {
        assert_eq!(before[k], v, "{k} in {before}");
    }
    let after = counts("2026-06-01").await;
    assert_eq!(
        (after["members"].clone(), after["non_members"].clone()),
        (json!(1), json!(3))
    );
    let m = after["by_customer_type"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["customer_type"] == "M"))
        .cloned()
        .expect("M row");
    assert_eq!(
        m,
        json!({"customer_type": "M", "is_member": true, "is_organization": false, "count": 1})
    );
    let long_ago = counts("2024-12-31").await;
    assert_eq!(
        (long_ago["total"].clone(), long_ago["staff"].clone()),
        (json!(0), json!(0))
    );
    let today = app
        .get("/reports/membership-counts", &app.staff)
        .await
        .expect(200)
        .body;
    assert_eq!(
        (today["members"].clone(), today["total"].clone()),
        (json!(1), json!(5))
    );
    app.get("/reports/membership-counts?as_of=2026-13-01", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}

// ----------------------------------------------------------------

async fn backdate_invoice(
    app: &TestApp,
    invoice: i64,
    column: entity::invoice::Column,
    when: &str,
) {
    entity::invoice::Entity::update_many()
        .col_expr(column, Expr::value(at(when)))
        .filter(entity::invoice::Column::Id.eq(invoice))
        .exec(&app.db.conn)
        .await
        .expect("backdate invoice");
}

async fn join(app: &TestApp, c: i64) -> Value {
    app.post(
        &format!("/contacts/{c}/join"),
        &app.staff,
        json!({"billing_cycle": "Member join", "billing_category": "REG", "join_date": "2026-04-10"}),
    )
    .await
    .expect(201)
    .body["invoice"]
        .clone()
}

#[tokio::test]
async fn a3_billing_report_gives_runs_receivables_and_cash_by_period() {
    let app = spawn().await;
    app.doctors().await;
    app.set_settings(
        json!({"default_billing_time": "annual", "fiscal_year_start_month": 1,
        "default_accounting_method": "accrual"}),
    )
    .await;
    for body in [
        json!({"name": "Member join", "customer_types": ["M"], "join_item_set": true}),
        json!({"name": "Member renewals", "customer_types": ["M"]}),
    ] {
        app.post("/billing-cycles", &app.staff, body)
            .await
            .expect(201);
    }
    // A renewal run in January bills one member 500.00.
    let renewing = typed(&app, "M", Some("REG"), 1).await[0];
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": renewing, "product": "MDUES", "is_membership_component": true,
            "paid_through": "2025-12-31", "bill_subscription": true}),
    )
    .await
    .expect(201);
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": "Member renewals", "effective_date": "2026-01-01", "dry_run": false}),
        )
        .await
        .expect(201);
    assert_eq!(run.body["billed"], 1, "{}", run.text);
    entity::renewal_run::Entity::update_many()
        .col_expr(
            entity::renewal_run::Column::StartedAt,
            Expr::value(at("2026-01-20T10:00:00Z")),
        )
        .exec(&app.db.conn)
        .await
        .expect("backdate run");
    let renewal = app
        .get(&format!("/invoices?contact_id={renewing}"), &app.staff)
        .await
        .expect(200)
        .body["items"][0]
        .clone();
    assert_eq!(renewal["total"], "500.00");
    backdate_invoice(
        &app,
        id(&renewal),
        entity::invoice::Column::CreatedAt,
        "2026-01-20T10:00:00Z",
    )
    .await;
    // February: a join of 375.00, 100.00 of it paid, and another join voided in March.
    let paying = app.person("NM", "Paying").await;
    let inv = join(&app, paying).await;
    assert_eq!(inv["total"], "375.00");
    backdate_invoice(
        &app,
        id(&inv),
        entity::invoice::Column::CreatedAt,
        "2026-02-03T09:00:00Z",
    )
    .await;
    app.post(
        &format!("/invoices/{}/payments", id(&inv)),
        &app.staff,
        json!({"amount": "100.00", "paid_on": "2026-02-10", "method": "card"}),
    )
    .await
    .expect(201);
    let voiding = app.person("NM", "Voided").await;
    let vinv = join(&app, voiding).await;
    backdate_invoice(
        &app,
        id(&vinv),
        entity::invoice::Column::CreatedAt,
        "2026-02-20T09:00:00Z",
    )
    .await;
    app.post(
        &format!("/invoices/{}/void", id(&vinv)),
        &app.staff,
        json!({"reason": "duplicate"}),
    )
    .await
    .expect(200);
    backdate_invoice(
        &app,
        id(&vinv),
        entity::invoice::Column::UpdatedAt,
        "2026-03-05T09:00:00Z",
    )
    .await;

    let r = app
        .get(
            "/reports/billing?from=2026-01-01&to=2026-03-31&period=month",
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(r.body["period"], "month");
    let p = r.body["periods"].as_array().expect("periods");
    assert_eq!(p.len(), 3, "{}", r.text);
    assert_eq!(p[0]["start"], "2026-01-01");
    assert_eq!(p[0]["end"], "2026-01-31");
    assert_eq!(p[0]["renewal_runs"], 1);
    assert_eq!(p[0]["renewal_billed"], 1);
    assert_eq!(p[0]["renewal_amount"], "500.00");
    assert_eq!(p[0]["invoices_issued"], 1);
    assert_eq!(p[0]["billed"], "500.00");
    assert_eq!(p[0]["open_receivables"], "500.00");
    assert_eq!(p[1]["invoices_issued"], 2);
    assert_eq!(p[1]["billed"], "750.00");
    assert_eq!(p[1]["payments"], 1);
    assert_eq!(p[1]["cash_received"], "100.00");
    assert_eq!(p[1]["open_receivables"], "1150.00");
    assert_eq!(p[2]["voided"], "375.00");
    assert_eq!(p[2]["open_receivables"], "775.00");
    assert_eq!(p[2]["end"], "2026-03-31");

    let q = app
        .get(
            "/reports/billing?from=2026-02-15&to=2026-02-15&period=quarter",
            &app.staff,
        )
        .await
        .expect(200);
    let p = q.body["periods"].as_array().expect("periods");
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0]["start"].clone(), p[0]["end"].clone()),
        (json!("2026-01-01"), json!("2026-03-31"))
    );
    assert_eq!(p[0]["billed"], "1250.00");
    assert_eq!(p[0]["cash_received"], "100.00");
    assert_eq!(p[0]["open_receivables"], "775.00");
    // Well-formed but impossible: a validation failure, not a malformed query.
    app.get("/reports/billing?from=2026-03-01&to=2026-01-01", &app.staff)
        .await
        .problem(422, "validation_failed");
    app.get("/reports/billing?period=week", &app.staff)
        .await
        .problem(400, "invalid_parameter");
}
