//! `ams demo-data`: the worked examples load through the service layer (E-1, E-2).

use serde_json::Value;
use service::demo::{Example, load};
use tests::spawn;

#[tokio::test]
async fn e1_doctors_association_loads() {
    let app = spawn().await;
    let loaded = load(&app.db, Example::Doctors).await.expect("load");
    assert_eq!(loaded.contacts, 6);
    let members = app
        .get("/contacts?is_member=true", &app.staff)
        .await
        .expect(200);
    let cats: Vec<&str> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["billing_category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, vec!["REG", "FYEAR", "INTL"]);
    // A second load into the same database is refused: each example is its own association.
    assert!(load(&app.db, Example::Colleges).await.is_err());
}

#[tokio::test]
async fn e2_college_association_flows_member_benefits_down_to_staff() {
    let app = spawn().await;
    load(&app.db, Example::Colleges).await.expect("load");
    let persons = app
        .get("/contacts?q=a&limit=200", &app.staff)
        .await
        .expect(200);
    let types: Vec<(String, String)> = persons.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["is_organization"] == Value::Bool(false))
        .map(|c| {
            (
                c["last_name"].as_str().unwrap().to_owned(),
                c["customer_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (name, ty) in &types {
        let expected = if name == "Berg" { "NMIND" } else { "MIND" };
        assert_eq!(ty, expected, "{name}");
    }
    assert_eq!(types.len(), 4);
}

#[tokio::test]
async fn e1_category_prices_are_pricing_rules_p3() {
    let app = spawn().await;
    load(&app.db, Example::Doctors).await.expect("load");
    let members = app
        .get("/contacts?is_member=true", &app.staff)
        .await
        .expect(200);
    for c in members.body["items"].as_array().unwrap() {
        let expected = match c["billing_category"].as_str().unwrap() {
            "REG" => "500.00",
            "FYEAR" => "100.00",
            "INTL" => "200.00",
            other => panic!("unexpected category {other}"),
        };
        let p = app
            .get(
                &format!("/products/MDUES/price?contact_id={}", c["id"]),
                &app.staff,
            )
            .await
            .expect(200);
        assert_eq!(p.body["price"], expected, "{}", p.text);
        assert!(p.body["rule"]["id"].is_i64());
    }
}

#[tokio::test]
async fn e2_category_prices_are_pricing_rules_p3() {
    let app = spawn().await;
    load(&app.db, Example::Colleges).await.expect("load");
    let rules = app
        .get("/pricing-rules?product=CDUES", &app.staff)
        .await
        .expect(200);
    let prices: Vec<(&str, &str)> = rules.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["billing_category"].as_str().unwrap(),
                r["price"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        prices,
        vec![("RES", "500.00"), ("LA", "300.00"), ("CC", "200.00")]
    );
}
