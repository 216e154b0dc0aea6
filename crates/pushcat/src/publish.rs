//! `pushcat publish HUB_URL --topic T… --data D [--id] [--type] [--retry] [--private]
//! [--token JWT]`: one form-encoded `POST` to the hub (HTTP/1.1, `https://` through push-http's
//! TLS set-up), printing the id the hub answers with. A non-2xx answer prints the hub's
//! message on stderr and exits with status 1.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::args::{PublishArgs, usage_error};

/// How long the whole exchange may take: a hub answers a publish at once.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The most of the hub's answer read: an id, or an error message.
const MAX_ANSWER: usize = 64 * 1024;

/// The hub's path when `HUB_URL` names none.
const HUB_PATH: &str = "/.well-known/mercure";

pub(crate) fn run(args: PublishArgs) -> ExitCode {
    let body = Bytes::from(form(&args));
    post(&Post {
        command: &["publish"],
        url: &args.url,
        default_path: HUB_PATH,
        cacerts: &args.tls.files,
        content_type: "application/x-www-form-urlencoded",
        token: args.token.as_deref(),
        body,
    })
}

/// One `POST` to the hub: what `publish` and `webhook register` send.
pub(crate) struct Post<'a> {
    /// The subcommand's path, for usage errors.
    pub(crate) command: &'a [&'a str],
    /// The URL as given (http:// or https://).
    pub(crate) url: &'a str,
    /// The path when the URL names none.
    pub(crate) default_path: &'a str,
    /// Extra CA certificates (`--cacert`).
    pub(crate) cacerts: &'a [std::path::PathBuf],
    /// The body's media type.
    pub(crate) content_type: &'a str,
    /// Sent as `Authorization: Bearer`.
    pub(crate) token: Option<&'a str>,
    /// The body.
    pub(crate) body: Bytes,
}

/// Sends `post` (HTTP/1.1, `https://` through push-http's TLS set-up) and prints the answer's
/// body on a 2xx; a non-2xx answer prints the hub's message on stderr and exits with status 1.
pub(crate) fn post(post: &Post<'_>) -> ExitCode {
    let error = |message: String| usage_error(post.command, message);
    let uri: Uri = match post.url.parse() {
        Ok(uri) => uri,
        Err(e) => return error(format!("<HUB_URL>: {e}")),
    };
    let tls = match uri.scheme_str() {
        Some("http") => None,
        Some("https") => match crate::tls::cacerts(post.cacerts)
            .and_then(|roots| crate::tls::client_config(&roots))
        {
            Ok(config) => Some(config),
            Err(e) => return error(e),
        },
        _ => return error("<HUB_URL>: expected an http:// or https:// URL".to_owned()),
    };
    let Some(authority) = uri.authority().cloned() else {
        return error("<HUB_URL>: the URL names no host".to_owned());
    };
    let path = match uri.path_and_query().map(|p| p.as_str()) {
        None | Some("" | "/") => post.default_path.to_owned(),
        Some(path) => path.to_owned(),
    };
    let mut request = Request::post(path)
        .header(HOST, authority.as_str())
        .header(CONTENT_TYPE, post.content_type);
    if let Some(token) = post.token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match request.body(Full::new(post.body.clone())) {
        Ok(request) => request,
        Err(e) => return error(format!("--token: {e}")),
    };
    let port = authority
        .port_u16()
        .unwrap_or(if tls.is_some() { 443 } else { 80 });
    let host = authority.host().to_owned();
    crate::block_on(async move {
        let exchange = async {
            let stream = TcpStream::connect((host.trim_matches(['[', ']']), port))
                .await
                .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
            match tls {
                None => send(stream, request).await,
                Some(config) => {
                    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                        .map_err(|e| format!("{host}: {e}"))?;
                    let stream = tokio_rustls::TlsConnector::from(config)
                        .connect(name, stream)
                        .await
                        .map_err(|e| format!("TLS with {authority}: {e}"))?;
                    send(stream, request).await
                }
            }
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Ok(Ok(id)) => {
                println!("{id}");
                ExitCode::SUCCESS
            }
            Ok(Err(message)) => {
                eprintln!("pushcat: {message}");
                ExitCode::from(1)
            }
            Err(_) => {
                eprintln!("pushcat: the hub did not answer within {TIMEOUT:?}");
                ExitCode::from(1)
            }
        }
    })
}

/// The publish form: `topic` (repeated), `data`, then the optional fields.
fn form(args: &PublishArgs) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for topic in &args.topics {
        form.append_pair("topic", topic);
    }
    form.append_pair("data", &args.data);
    if let Some(id) = &args.id {
        form.append_pair("id", id);
    }
    if let Some(event_type) = &args.event_type {
        form.append_pair("type", event_type);
    }
    if let Some(retry) = args.retry {
        form.append_pair("retry", &retry.to_string());
    }
    if args.private {
        form.append_pair("private", "on");
    }
    form.finish()
}

/// Sends `request` over `io` and returns the answer's body on a 2xx; the status and the body
/// (the hub's message) otherwise.
async fn send<IO>(io: IO, request: Request<Full<Bytes>>) -> Result<String, String>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP with the hub: {e}"))?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the hub did not answer: {e}"))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| format!("reading the hub's answer: {e}"))?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let text = text.trim_end();
    if status.is_success() {
        Ok(text.to_owned())
    } else if text.is_empty() {
        Err(format!("the hub answered {status}"))
    } else {
        Err(format!("the hub answered {status}: {text}"))
    }
}
