//! NDJSON framing (lines however the body is cut, over-long lines refused) and the pool on NDJSON links
//! (a heartbeat line is life; a grown set reopens the stream with the whole set in its request).

use super::ndjson::{Chunks, LineReader, NdjsonLink};
use super::tests::{options, settle};
use super::*;
use crate::sync::MutexExt;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::sleep;

/// A body fed by the test; the sender's drop ends it.
struct TestBody(UnboundedReceiver<bytes::Bytes>);

#[async_trait::async_trait]
impl Chunks for TestBody {
    async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, String> {
        Ok(self.0.recv().await)
    }
}

fn body(chunks: &[&'static str]) -> TestBody {
    let (tx, rx) = unbounded_channel();
    for c in chunks {
        tx.send(bytes::Bytes::from_static(c.as_bytes())).unwrap();
    }
    TestBody(rx)
}

async fn lines(reader: &mut LineReader<TestBody>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(line) = reader.next_line().await.unwrap() {
        out.push(String::from_utf8(line).unwrap());
    }
    out
}

#[tokio::test]
async fn lines_come_out_whole_however_the_body_is_cut() {
    let mut reader = LineReader::new(
        body(&["{\"a\":", "1}\n{\"b\"", ":2}\r\n\n", "{\"c\":3}\n{\"cut"]),
        64,
    );
    assert_eq!(lines(&mut reader).await, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
}

#[tokio::test]
async fn an_over_long_line_is_refused_whether_or_not_it_ended() {
    let mut ended = LineReader::new(body(&["short\n", "0123456789\n"]), 8);
    assert_eq!(ended.next_line().await.unwrap().unwrap(), b"short");
    let err = ended.next_line().await.unwrap_err();
    assert!(err.contains("past 8 bytes"), "{err}");
    let mut endless = LineReader::new(body(&["01234", "56789", "more"]), 8);
    assert!(endless.next_line().await.is_err());
}

/// A protocol on NDJSON links fed by the test: `data:KEY:V` lines are events, `hb` is a heartbeat.
#[derive(Default)]
struct LineProtocol {
    opens: Mutex<Vec<(Vec<String>, UnboundedSender<bytes::Bytes>)>>,
}

#[async_trait::async_trait]
impl Protocol for LineProtocol {
    type Event = String;
    type Session = ();

    fn name(&self) -> &'static str {
        "test NDJSON stream"
    }

    async fn open(&self, keys: &[String], _reopened: bool) -> Result<Opened<()>, OpenError> {
        let (tx, rx) = unbounded_channel();
        self.opens.locked().push((keys.to_vec(), tx));
        Ok(Opened {
            session: (),
            link: Box::new(NdjsonLink::new(TestBody(rx), 1024)),
        })
    }

    fn decode(&self, _: &(), line: &[u8]) -> Incoming<String> {
        let text = String::from_utf8_lossy(line);
        match text.split(':').collect::<Vec<_>>().as_slice() {
            ["data", key, value] => Incoming::Data {
                key: key.to_string(),
                event: value.to_string(),
            },
            ["hb"] => Incoming::Alive,
            _ => Incoming::Malformed,
        }
    }
}

impl LineProtocol {
    fn line(&self, i: usize, text: &str) {
        let opens = self.opens.locked();
        let _ = opens[i].1.send(bytes::Bytes::from(format!("{text}\n")));
    }

    fn keys(&self) -> Vec<Vec<String>> {
        self.opens.locked().iter().map(|(k, _)| k.clone()).collect()
    }
}

fn ndjson_pool() -> (Arc<LineProtocol>, StreamPool<LineProtocol>) {
    let protocol = Arc::new(LineProtocol::default());
    let options = PoolOptions {
        per_connection: usize::MAX,
        ..options()
    };
    (protocol.clone(), StreamPool::new(protocol, options))
}

#[tokio::test(start_paused = true)]
async fn heartbeat_lines_keep_the_stream_and_silence_reopens_it() {
    let (protocol, pool) = ndjson_pool();
    let mut a = pool.subscribe("A").unwrap();
    settle().await;
    protocol.line(0, "data:A:1");
    assert_eq!(a.recv().await.unwrap(), "1");
    for _ in 0..4 {
        sleep(Duration::from_secs(5)).await;
        protocol.line(0, "hb");
    }
    assert_eq!(protocol.keys().len(), 1, "heartbeats are life");
    sleep(Duration::from_secs(11)).await;
    assert_eq!(protocol.keys(), vec![vec!["A".to_string()]; 2]);
    assert_eq!(
        pool.stats().reconnects,
        1,
        "a silence counts as a lost connection"
    );
}

#[tokio::test(start_paused = true)]
async fn a_grown_set_reopens_once_after_the_burst_with_every_key_in_the_request() {
    let (protocol, pool) = ndjson_pool();
    let _a = pool.subscribe("A").unwrap();
    settle().await;
    let _b = pool.subscribe("B").unwrap();
    let _c = pool.subscribe("C").unwrap();
    sleep(Duration::from_millis(100)).await;
    assert_eq!(protocol.keys().len(), 1, "still within the debounce");
    sleep(Duration::from_millis(100)).await;
    let abc: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
    assert_eq!(protocol.keys(), [vec!["A".to_string()], abc]);
    let stats = pool.stats();
    assert_eq!((stats.connections, stats.opened, stats.reconnects), (1, 2, 0));
    // A key already carried, asked again, reopens nothing.
    let _a2 = pool.subscribe("A").unwrap();
    sleep(Duration::from_millis(300)).await;
    assert_eq!(protocol.keys().len(), 2);
}
