//! Newline-delimited JSON over a chunked HTTP body (both OANDA stream kinds): whole lines out, however the
//! body is cut into chunks, with a bound on how long a line may grow.

/// Longest line accepted; OANDA's lines are a few hundred bytes, so anything this long is a broken stream.
const MAX_LINE: usize = 1 << 20;

/// Splits a streamed body into lines.
pub struct LineReader {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl LineReader {
    pub fn new(response: reqwest::Response) -> LineReader {
        LineReader {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next non-empty line without its `\n` (and `\r`); `Ok(None)` when the body ended cleanly (a
    /// trailing unterminated fragment is dropped: it was cut off mid-line).
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            if let Some(at) = self.buffer.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buffer.drain(..=at).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.buffer.len() > MAX_LINE {
                return Err(format!("a stream line grew past {MAX_LINE} bytes"));
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => return Ok(None),
                Err(e) => return Err(e.without_url().to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use futures_util::stream;

    async fn serve(chunks: Vec<&'static str>) -> String {
        let app = axum::Router::new().route(
            "/s",
            get(move || {
                let chunks = chunks.clone();
                async move {
                    Body::from_stream(stream::iter(
                        chunks
                            .into_iter()
                            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
                    ))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/s")
    }

    #[tokio::test]
    async fn lines_come_out_whole_however_the_body_is_cut() {
        let url = serve(vec!["{\"a\":", "1}\n{\"b\"", ":2}\r\n\n", "{\"c\":3}\n{\"cut"]).await;
        let mut reader = LineReader::new(reqwest::get(&url).await.unwrap());
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await.unwrap() {
            lines.push(String::from_utf8(line).unwrap());
        }
        assert_eq!(lines, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }
}
