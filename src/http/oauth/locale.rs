//! The words of the OAuth pages, one table per language (English today), chosen from `lang`.
//!
//! TradingView passes the user's interface language as `lang` on the authorization request (`ar`, `br`,
//! `cs`, `de`, `el`, `en`, `es`, `fa`, `fr`, `he`, `hu`, `id`, `in`, `it`, `ja`, `kr`, `ms`, `nl`, `pl`, `ro`,
//! `ru`, `sv`, `th`, `tr`, `uk`, `vi`, `zh`). Adding a language is one [`Words`] table, one [`Locale`]
//! variant and one line in [`Locale::from_lang`] and [`Locale::words`]; `dir` is [`Dir::Rtl`] for `ar`,
//! `fa` and `he`. Anything unknown, missing or malformed falls back to English.
//!
//! Three of TradingView's codes are not the language's BCP 47 tag, which is what `html_lang` must hold:
//! `br` is Brazilian Portuguese (`pt-BR`), `kr` Korean (`ko`) and `in` Indonesian (`id`, like `id`).

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
}

/// The writing direction of a language, the page's `dir` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Ltr,
    Rtl,
}

impl Dir {
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Ltr => "ltr",
            Dir::Rtl => "rtl",
        }
    }
}

/// Every sentence the pages show, in one language. Sentences around a value are split into the text
/// `before` and `after` it, so a language can put the value where its grammar wants it.
#[derive(Debug)]
pub struct Words {
    /// The `lang` attribute of the page (BCP 47).
    pub html_lang: &'static str,
    pub dir: Dir,
    /// The `<title>` and heading of the login page.
    pub login_title: &'static str,
    /// "Log in to continue to {client}".
    pub continue_before: &'static str,
    pub continue_after: &'static str,
    pub login_label: &'static str,
    pub password_label: &'static str,
    pub submit: &'static str,
    /// The divider between the password form and a "Log in with ..." button.
    pub or: &'static str,
    pub wrong_password: &'static str,
    /// "Too many attempts. Try again in {wait}."
    pub throttled_before: &'static str,
    pub throttled_after: &'static str,
    /// When the throttle gives no wait.
    pub throttled_later: &'static str,
    pub expired: &'static str,
    pub unavailable: &'static str,
    /// The error page's line under the detail.
    pub error_hint: &'static str,
    pub error_bad_request: &'static str,
    pub error_unknown_client: &'static str,
    pub error_bad_redirect: &'static str,
    pub error_server: &'static str,
    pub error_form_refused: &'static str,
    pub error_unavailable: &'static str,
    pub signed_out: &'static str,
    pub error_not_granted: &'static str,
    pub error_login_refused: &'static str,
    /// Under the form of a federated backend: before and after the upstream's name.
    pub upstream_before: &'static str,
    pub upstream_after: &'static str,
    /// The small print under the card.
    pub footer: &'static str,
}

const EN: Words = Words {
    html_lang: "en",
    dir: Dir::Ltr,
    login_title: "Log in",
    continue_before: "Log in to continue to ",
    continue_after: "",
    login_label: "Login",
    password_label: "Password",
    submit: "Log in",
    or: "or",
    wrong_password: "Wrong login or password.",
    throttled_before: "Too many attempts. Try again in ",
    throttled_after: ".",
    throttled_later: "Too many attempts. Try again later.",
    expired: "This login request has expired. Go back to TradingView and start again.",
    unavailable: "Login is unavailable right now. Please try again in a few minutes.",
    error_hint: "You can close this page and go back to TradingView.",
    error_bad_request: "This login link is not valid",
    error_unknown_client: "Unknown application",
    error_bad_redirect: "This application cannot log in here",
    error_server: "Something went wrong",
    error_form_refused: "This login form cannot be used",
    error_unavailable: "Please try again in a moment",
    signed_out: "You are signed out",
    error_not_granted: "Access was not granted",
    error_login_refused: "Login could not be completed",
    upstream_before: "After you log in for the first time, ",
    upstream_after: " asks you to allow this bridge to trade for you.",
    footer: "Check the address bar before you enter your password.",
};

impl Locale {
    /// The language for TradingView's `lang` value, English when it is missing or not (yet) translated.
    /// Case and a region suffix (`en-GB`, `pt_BR`) are ignored.
    pub fn from_lang(lang: Option<&str>) -> Locale {
        let Some(lang) = lang else {
            return Locale::En;
        };
        let primary = lang.split(['-', '_']).next().unwrap_or_default().trim();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Locale::En,
            _ => Locale::En,
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Locale::En => &EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_missing_and_odd_languages_fall_back_to_english() {
        for lang in [
            None,
            Some(""),
            Some("en"),
            Some("EN-gb"),
            Some("xx"),
            Some("ar"),
            Some("<script>"),
        ] {
            assert_eq!(Locale::from_lang(lang), Locale::En, "{lang:?}");
        }
        assert_eq!(Locale::En.words().html_lang, "en");
        assert_eq!(Locale::En.words().dir, Dir::Ltr);
        assert_eq!(Dir::Rtl.as_str(), "rtl");
    }
}
