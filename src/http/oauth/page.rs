//! The server-rendered HTML pages of the OAuth login: the login form and the error page.
