//! The OAuth login as a browser meets it: the server-rendered pages in a real headless Chromium
//! (`browser_page`), driven by the keyboard only. Without chromedriver and Chromium the tests say
//! "skipped" and pass, except under `CI=true`.

mod browser_page;
mod federated_flow;
mod flow;
mod tv;
