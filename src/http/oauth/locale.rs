//! The words of the OAuth pages, one table per language (English today), chosen from `lang`.
