//! One blocking Redis connection made at first use and made again after a failure, with
//! bounded I/O: what the Redis queue and push-hub's shared callback registry run their
//! scripts on (both off the async threads). The connection is to one Redis or to a Redis
//! Cluster; every script of both keeps its keys in one hash slot, so it runs unchanged on
//! either.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Connection, ConnectionLike, RedisError, RedisResult, TlsCertificates, Value};

/// How long one connect, read or write may take before the step fails.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A lazily made, self-mending connection to one Redis server or to a Redis Cluster.
pub struct RedisLink {
    client: Client,
    connection: Mutex<Option<LinkConnection>>,
}

enum Client {
    Single(Box<redis::Client>),
    Cluster(Box<ClusterClient>),
}

/// The connection a [`RedisLink::with`] step runs on: to one Redis, or to a Cluster (which
/// sends each command to the node that holds its keys). Both take any redis-rs command or
/// script invocation ([`ConnectionLike`]).
pub enum LinkConnection {
    /// One Redis.
    Single(Connection),
    /// A Redis Cluster.
    Cluster(Box<ClusterConnection>),
}

impl core::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = match self.client {
            Client::Single(_) => "single",
            Client::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisLink")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for LinkConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Single(_) => "LinkConnection::Single",
            Self::Cluster(_) => "LinkConnection::Cluster",
        })
    }
}

impl RedisLink {
    /// A link to the Redis at `url` (`redis://`, `rediss://`); nothing connects yet.
    ///
    /// # Errors
    /// The client's error when `url` is not a Redis URL.
    pub fn open(url: &str) -> Result<Self, RedisError> {
        Self::build(&[url], false, None)
    }

    /// A link to the Redis Cluster that `nodes` (one URL each, any of its nodes) belong to;
    /// nothing connects yet.
    ///
    /// # Errors
    /// The client's error when a node is not a Redis URL.
    pub fn open_cluster<S: AsRef<str>>(nodes: &[S]) -> Result<Self, RedisError> {
        Self::build(nodes, true, None)
    }

    /// A link as [`open`](Self::open) (`cluster` false, one node) or
    /// [`open_cluster`](Self::open_cluster) makes, whose `rediss://` connections trust only
    /// the CA certificate `root_certificate` (PEM) when given, else the system's roots.
    ///
    /// # Errors
    /// The client's error when a node is not a Redis URL, or `cluster` is false and there is
    /// not exactly one node.
    pub fn build<S: AsRef<str>>(
        nodes: &[S],
        cluster: bool,
        root_certificate: Option<&[u8]>,
    ) -> Result<Self, RedisError> {
        let certificates = || TlsCertificates {
            client_tls: None,
            root_cert: root_certificate.map(<[u8]>::to_vec),
        };
        let client = if cluster {
            let nodes: Vec<&str> = nodes.iter().map(AsRef::as_ref).collect();
            let mut builder = ClusterClient::builder(nodes)
                .connection_timeout(IO_TIMEOUT)
                .response_timeout(IO_TIMEOUT);
            if root_certificate.is_some() {
                builder = builder.certs(certificates());
            }
            Client::Cluster(Box::new(builder.build()?))
        } else {
            let [url] = nodes else {
                return Err(RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "one Redis URL, or a cluster",
                )));
            };
            let client = match root_certificate {
                Some(_) => redis::Client::build_with_tls(url.as_ref(), certificates())?,
                None => redis::Client::open(url.as_ref())?,
            };
            Client::Single(Box::new(client))
        };
        Ok(Self {
            client,
            connection: Mutex::new(None),
        })
    }

    /// Runs `step` on the connection, connecting first if there is none (each I/O bounded
    /// by 5 s); a failed step drops the connection, so the next one starts afresh. Steps run
    /// one at a time.
    ///
    /// # Errors
    /// The connect's or the step's error.
    pub fn with<T>(
        &self,
        step: impl FnOnce(&mut LinkConnection) -> Result<T, RedisError>,
    ) -> Result<T, RedisError> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let connection = match slot.take() {
            Some(connection) => slot.insert(connection),
            None => slot.insert(self.connect()?),
        };
        step(connection).inspect_err(|_| *slot = None)
    }

    fn connect(&self) -> Result<LinkConnection, RedisError> {
        Ok(match &self.client {
            Client::Single(client) => {
                let connection = client.get_connection_with_timeout(IO_TIMEOUT)?;
                connection.set_read_timeout(Some(IO_TIMEOUT))?;
                connection.set_write_timeout(Some(IO_TIMEOUT))?;
                LinkConnection::Single(connection)
            }
            Client::Cluster(client) => LinkConnection::Cluster(Box::new(client.get_connection()?)),
        })
    }
}

impl ConnectionLike for LinkConnection {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &redis::Cmd) -> RedisResult<Value> {
        // A Cluster routes by the command's keys, which only the whole command tells.
        match self {
            Self::Single(c) => c.req_command(cmd),
            Self::Cluster(c) => c.req_command(cmd),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            Self::Single(c) => c.check_connection(),
            Self::Cluster(c) => c.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Self::Single(c) => c.is_open(),
            Self::Cluster(c) => c.is_open(),
        }
    }
}
