//! ServerOAuth2Bearer: verifying the RS256 JWT assertion TradingView's servers present at the token endpoint.
