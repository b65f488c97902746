//! The authorization page in a real headless Chromium (skipped without `chromedriver`/`chromium`, a
//! failure under `CI=true`): a wrong password shows the form again with an alert; the right one and Allow
//! send the browser to the callback with the verifier, which the consumer exchanges.

use crate::client::*;
use fakes::browser::fantoccini::Locator;
use fakes::browser::Browser;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_logs_in_and_allows_in_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (fake, c) = relaxed().await;
    let callback = format!("{}/cb?state=b1", fake.origin);
    let rt = c.request_token(Some(&callback), false).await;
    let token = rt.body["oauth_token"].as_str().unwrap().to_string();
    let client = browser.client();
    let fill = |password: &'static str| {
        let client = client.clone();
        async move {
            let user = client
                .find(Locator::Id("username"))
                .await
                .expect("the username field");
            user.clear().await.expect("clear");
            user.send_keys("alice").await.expect("typing");
            let pass = client
                .find(Locator::Id("password"))
                .await
                .expect("the password field");
            pass.send_keys(password).await.expect("typing");
            client
                .find(Locator::Css("button[value=allow]"))
                .await
                .expect("the Allow button")
                .click()
                .await
                .expect("clicking Allow");
        }
    };
    client
        .goto(&format!("{}?oauth_token={token}", fake.authorize_url))
        .await
        .expect("the page loads");
    assert_eq!(client.title().await.unwrap(), "Authorize access");
    browser.screenshot("ibkr-tp-authorize.png").await;
    fill("wrong").await;
    let alert = client.find(Locator::Css("[role=alert]")).await.expect("an error");
    assert_eq!(alert.text().await.unwrap(), "Invalid username or password");
    fill(ALICE.1).await;
    let mut url = String::new();
    for _ in 0..100 {
        url = client.current_url().await.unwrap().to_string();
        if url.contains("oauth_verifier") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        url.starts_with(&format!("{}/cb?state=b1&oauth_token={token}", fake.origin)),
        "{url}"
    );
    let verifier = param(&url, "oauth_verifier").expect("a verifier");
    let at = c.access_token(&token, &verifier).await;
    assert_eq!(at.status, 200, "{}", at.body);
    browser.close().await;
}
