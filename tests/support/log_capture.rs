//! Captures `tracing` events as JSON lines in memory, for tests that assert on what is logged.
//!
//! One global subscriber (installed on first use) writes each event into the buffer of the thread that
//! emitted it, if that thread is capturing. A current-thread `#[tokio::test]` runs its handlers and the
//! tasks they spawn on its own thread, so each test sees its own events only, while tests run in
//! parallel. (A thread-local default subscriber would be simpler, but `tracing` caches per call site
//! whether anyone listens, and a parallel test without a subscriber can make a call site silent.)

use serde_json::Value;
use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Once};
use tracing_subscriber::fmt::MakeWriter;

type Buffer = Arc<Mutex<Vec<u8>>>;

thread_local! {
    static CAPTURE: RefCell<Option<Buffer>> = const { RefCell::new(None) };
}

/// Writes to the current thread's capture buffer, or nowhere.
struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(buf) = c.borrow().as_ref() {
                buf.lock().unwrap().extend_from_slice(data);
            }
        });
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ThreadWriter {
    type Writer = ThreadWriter;

    fn make_writer(&'a self) -> Self::Writer {
        ThreadWriter
    }
}

/// The events of `target` (and its sub-targets) at DEBUG or above, captured on this thread from
/// [`LogCapture::start`] until the capture is dropped.
pub struct LogCapture {
    buf: Buffer,
    target: String,
}

impl LogCapture {
    /// Starts capturing this thread's events of `target` (such as `tvbridge::audit`).
    pub fn start(target: &str) -> LogCapture {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_current_span(false)
                .with_span_list(false)
                // DEBUG too: a secret must not appear at any level a deployment may switch on.
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(ThreadWriter)
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
        let buf = Buffer::default();
        CAPTURE.with(|c| *c.borrow_mut() = Some(buf.clone()));
        LogCapture {
            buf,
            target: target.to_owned(),
        }
    }

    /// The captured lines of the target, as logged.
    pub fn text(&self) -> String {
        self.lines()
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn lines(&self) -> Vec<Value> {
        let raw = String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned();
        raw.lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .filter(|v| {
                let target = v["target"].as_str().unwrap_or_default();
                target == self.target || target.starts_with(&format!("{}::", self.target))
            })
            .collect()
    }

    /// The captured lines of the target that contain `needle`, as logged.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.lines()
            .iter()
            .map(|l| l.to_string())
            .filter(|l| l.contains(needle))
            .collect()
    }

    /// The `fields` of every captured event of the target (with `message`), in order.
    pub fn events(&self) -> Vec<Value> {
        self.lines().into_iter().map(|v| v["fields"].clone()).collect()
    }

    /// The events whose field `name` equals `value`.
    pub fn with(&self, name: &str, value: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e[name] == value).collect()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}
