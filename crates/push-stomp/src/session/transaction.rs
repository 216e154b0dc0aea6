//! `BEGIN` / `COMMIT` / `ABORT`: `SEND`, `ACK` and `NACK` frames naming a transaction wait until
//! it commits (then apply in order) or aborts (then are dropped), as STOMP 1.2 says.

use push_core::Broker;
use push_http::Hooks;

use super::Session;
use super::publish::Publish;
use crate::{Command, Frame};

/// What a frame costs against [`Config::max_transaction_bytes`](crate::Config::max_transaction_bytes).
fn weight(frame: &Frame) -> usize {
    let headers: usize = frame.headers().map(|(n, v)| n.len() + v.len() + 2).sum();
    headers.saturating_add(frame.body().len())
}

impl<B, H, P> Session<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
{
    /// A `SEND`, `ACK` or `NACK` with a `transaction` header: kept until the transaction ends.
    pub(super) fn in_transaction(
        &mut self,
        frame: Frame,
        _receipt: Option<&str>,
    ) -> Result<(), String> {
        let name = frame.header("transaction").unwrap_or_default().to_owned();
        let weight = weight(&frame);
        if self.transaction_bytes.saturating_add(weight) > self.config.max_transaction_bytes() {
            return Err("the open transactions exceed the maximum transaction size".to_owned());
        }
        let Some((_, frames)) = self.transactions.iter_mut().find(|(n, _)| *n == name) else {
            return Err(format!("transaction {name} was not begun"));
        };
        frames.push(frame);
        self.transaction_bytes += weight;
        Ok(())
    }

    /// `BEGIN`, `COMMIT` or `ABORT`.
    pub(super) fn on_transaction(
        &mut self,
        frame: &Frame,
        receipt: Option<String>,
    ) -> Result<(), String> {
        let name = frame
            .header("transaction")
            .ok_or_else(|| format!("{} without a transaction", frame.command().as_str()))?;
        let open = self.transactions.iter().position(|(n, _)| n == name);
        match (frame.command(), open) {
            (Command::Begin, Some(_)) => Err(format!("transaction {name} is already open")),
            (Command::Begin, None) if self.transactions.len() >= self.config.max_transactions() => {
                Err("too many open transactions".to_owned())
            }
            (Command::Begin, None) => {
                self.transactions.push((name.to_owned(), Vec::new()));
                Ok(())
            }
            (_, None) => Err(format!("transaction {name} was not begun")),
            (command, Some(at)) => {
                let (_, frames) = self.transactions.remove(at);
                let released: usize = frames.iter().map(weight).sum();
                self.transaction_bytes = self.transaction_bytes.saturating_sub(released);
                if command == Command::Abort {
                    return Ok(());
                }
                let mut sends = Vec::new();
                for frame in frames {
                    match frame.command() {
                        Command::Ack => self.on_ack(&frame, false)?,
                        Command::Nack => self.on_ack(&frame, true)?,
                        _ => sends.push(frame),
                    }
                }
                if sends.is_empty() {
                    Ok(())
                } else {
                    self.on_send(sends, receipt)
                }
            }
        }
    }
}
