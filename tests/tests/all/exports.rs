//! CSV exports of contact lists, invoices and reports (`Accept: text/csv`), and XLSX imports of
//! subscriptions read exactly like CSV ones (S-9).

use reqwest::Method;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{Value, json};
use tests::{Res, TestApp, spawn};

async fn csv_get(app: &TestApp, path: &str, accept: &str) -> Res {
    app.send(
        Method::GET,
        path,
        Some(&app.staff),
        None,
        &[("accept", accept)],
    )
    .await
}

/// The CSV body as records of the header's columns.
fn records(res: &Res) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let mut reader = csv::Reader::from_reader(res.text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[actix_web::test]
async fn a_contact_list_exports_every_matching_row_across_pages() {
    let app = spawn().await;
    app.doctors().await;
    // More than one page of the export (200 rows a page).
    for n in 0..230 {
        app.create_contact(json!({"customer_type": "NM", "first_name": "Pat",
            "last_name": format!("Export{n:03}"), "tags": ["event-attendee", "press"],
            "address": {"city": "Leeds", "country": "gb"}}))
            .await;
    }
    app.create_contact(json!({"customer_type": "HOSP", "organization_name": "=HYPERLINK(\"x\")"}))
        .await;

    let res = csv_get(&app, "/contacts?customer_type=NM&limit=5", "text/csv").await;
    assert!(
        res.header("content-disposition")
            .is_some_and(|d| d.contains("contacts.csv"))
    );
    let (header, rows) = records(&res);
    assert_eq!(rows.len(), 230, "every row, not a page");
    assert_eq!(&header[..3], ["id", "customer_type", "billing_category"]);
    let (last, city, tags) = (
        column(&header, "last_name"),
        column(&header, "address_city"),
        column(&header, "tags"),
    );
    assert_eq!(rows[0][last], "Export000");
    assert_eq!(rows[229][last], "Export229");
    assert_eq!(rows[7][city], "Leeds");
    assert_eq!(rows[7][column(&header, "address_country")], "GB");
    assert_eq!(rows[7][tags], "event-attendee;press");
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in list order, once each"
    );

    // A cell a spreadsheet would run as a formula is quoted.
    let (header, rows) = records(&csv_get(&app, "/contacts?customer_type=HOSP", "text/csv").await);
    assert_eq!(
        rows[0][column(&header, "organization_name")],
        "'=HYPERLINK(\"x\")"
    );

    // From a cursor: the rows after it.
    let cursor = ids[99];
    let (_, after) = records(
        &csv_get(
            &app,
            &format!("/contacts?customer_type=NM&cursor={cursor}"),
            "text/csv",
        )
        .await,
    );
    assert_eq!(after.len(), 130);

    // JSON stays the default, and a refused CSV is not sent.
    for accept in ["application/json", "*/*", "text/csv;q=0, application/json"] {
        let res = csv_get(&app, "/contacts?customer_type=NM&limit=5", accept).await;
        assert_eq!(res.status.as_u16(), 200);
        assert_eq!(res.body["items"].as_array().unwrap().len(), 5, "{accept}");
    }
    // A bad request is still a problem, not a CSV file.
    csv_get(&app, "/contacts?cursor=abc", "text/csv")
        .await
        .problem(400, "invalid_parameter");
    // The segments share the export.
    let (_, prospects) = records(&csv_get(&app, "/segments/prospects", "text/csv").await);
    assert_eq!(prospects.len(), 230);
}

#[actix_web::test]
async fn invoices_and_reports_export_as_csv() {
    let app = spawn().await;
    app.doctors_with_join_cycle("Join").await;
    let mut contacts = Vec::new();
    for name in ["Ames", "Bell", "Cole"] {
        let c = app.person("NM", name).await;
        app.join_and_pay(c, "Join", "2027-01-15", "2027-01-15")
            .await;
        contacts.push(c);
    }

    let (header, rows) = records(&csv_get(&app, "/invoices", "text/csv").await);
    assert_eq!(rows.len(), 3);
    let total = column(&header, "total");
    assert!(rows.iter().all(|r| r[total] == "500.00"), "{rows:?}");
    let lines: Value = serde_json::from_str(&rows[0][column(&header, "lines")]).unwrap();
    assert_eq!(lines[0]["product"], "MDUES", "lines kept as JSON: {lines}");
    // A contact's invoices.
    let (_, one) = records(
        &csv_get(
            &app,
            &format!("/contacts/{}/invoices", contacts[1]),
            "text/csv",
        )
        .await,
    );
    assert_eq!(one.len(), 1);

    let (header, mix) = records(&csv_get(&app, "/reports/membership-mix", "text/csv").await);
    assert_eq!(
        header,
        [
            "customer_type",
            "billing_category",
            "count",
            "share",
            "flagged"
        ]
    );
    assert!(mix.contains(&vec![
        "M".to_owned(),
        "REG".to_owned(),
        "3".to_owned(),
        "1.0".to_owned(),
        "true".to_owned()
    ]));

    let (header, counts) = records(
        &csv_get(
            &app,
            "/reports/membership-counts?as_of=2027-02-01",
            "text/csv",
        )
        .await,
    );
    let m = counts
        .iter()
        .find(|r| r[column(&header, "customer_type")] == "M")
        .expect("a row for M");
    assert_eq!(m[column(&header, "count")], "3");

    // Invoices count in the period they were issued: this month.
    let today = chrono::Utc::now().date_naive();
    let month = today.format("%Y-%m-01").to_string();
    let (header, periods) = records(
        &csv_get(
            &app,
            &format!("/reports/billing?from={month}&to={today}&period=month"),
            "text/csv",
        )
        .await,
    );
    assert_eq!(periods.len(), 1);
    assert_eq!(periods[0][column(&header, "start")], month);
    assert_eq!(periods[0][column(&header, "invoices_issued")], "3");
    assert_eq!(periods[0][column(&header, "billed")], "1500.00");

    // The document says which operations answer CSV.
    let spec = app
        .get("/api-docs/openapi.json", &app.staff)
        .await
        .expect(200)
        .body;
    assert!(
        spec["paths"]["/api/v1/contacts"]["get"]["responses"]["200"]["content"]["text/csv"]
            .is_object()
    );
}

type Ymd = (u16, u8, u8);

/// A workbook of subscriptions: a header row, then `rows` with dates as date cells.
fn workbook(rows: &[(i64, &str, Ymd, Ymd)]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (col, name) in [
        "contact_id",
        "product",
        "begin_date",
        "paid_through",
        "status",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    for (i, (contact, product, begin, through)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, *contact as f64).unwrap();
        sheet.write_string(r, 1, *product).unwrap();
        let b = ExcelDateTime::from_ymd(begin.0, begin.1, begin.2).unwrap();
        let t = ExcelDateTime::from_ymd(through.0, through.1, through.2).unwrap();
        sheet.write_datetime_with_format(r, 2, &b, &date).unwrap();
        sheet.write_datetime_with_format(r, 3, &t, &date).unwrap();
        sheet.write_string(r, 4, "Y").unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[actix_web::test]
async fn s9_an_xlsx_workbook_imports_like_the_same_csv() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("JOURNAL", "subscription", "40.00").await;
    let a = app.person("NM", "Xlsx").await;
    let b = app.person("NM", "Csv").await;

    let res = app
        .post_xlsx(
            "action=insert",
            workbook(&[(a, "JOURNAL", (2027, 1, 1), (2027, 12, 31))]),
        )
        .await
        .expect(200);
    assert_eq!(res.body["applied"], 1, "{}", res.text);
    let csv = app
        .post_csv(
            "/subscriptions/import?action=insert",
            &format!("contact_id,product,begin_date,paid_through,status\n{b},JOURNAL,2027-01-01,2027-12-31,Y\n"),
        )
        .await
        .expect(200);
    assert_eq!(csv.body["applied"], 1);
    let subs = |c: i64| {
        let app = &app;
        async move {
            app.get(&format!("/contacts/{c}/subscriptions"), &app.staff)
                .await
                .expect(200)
                .body["items"][0]
                .clone()
        }
    };
    let (from_xlsx, from_csv) = (subs(a).await, subs(b).await);
    for field in ["product", "begin_date", "paid_through", "active"] {
        assert_eq!(from_xlsx[field], from_csv[field], "{field}");
    }
    assert_eq!(from_xlsx["paid_through"], "2027-12-31");

    // Rows fail one by one, as in CSV; a bad file fails whole.
    let report = app
        .post_xlsx(
            "action=insert&mode=row_by_row",
            workbook(&[
                (a, "NOPE", (2027, 1, 1), (2027, 12, 31)),
                (b, "MDUES", (2027, 1, 1), (2027, 12, 31)),
            ]),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(report["applied"], 1, "{report}");
    app.post_xlsx("action=insert", b"not a workbook".to_vec())
        .await
        .problem(422, "validation_failed");
    app.post_xlsx(
        "",
        workbook(&[(a, "JOURNAL", (2027, 1, 1), (2027, 12, 31))]),
    )
    .await
    .problem(422, "validation_failed");
}
