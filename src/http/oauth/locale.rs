//! The words of the OAuth pages, one table per language (English today), chosen from `lang`.
//! (Placeholder until the pages land.)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
}

impl Locale {
    pub fn from_lang(_lang: Option<&str>) -> Locale {
        Locale::En
    }
}
