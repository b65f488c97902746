//! A real headless Chromium driven over WebDriver (`chromedriver`), for the browser tests of the login page.
