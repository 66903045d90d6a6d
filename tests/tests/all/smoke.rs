use serde_json::json;
use tests::spawn;

#[tokio::test]
async fn health_ready_and_login() {
    let app = spawn().await;
    app.send(reqwest::Method::GET, "/health", None, None, &[])
        .await
        .expect(200);
    app.send(reqwest::Method::GET, "/ready", None, None, &[])
        .await
        .expect(200);
    let r = app
        .send(
            reqwest::Method::POST,
            "/auth/token",
            None,
            Some(json!({"username": "admin", "password": tests::ADMIN_PASSWORD})),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    app.get("/contacts", &token).await.expect(200);
}
