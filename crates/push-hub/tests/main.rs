//! push-hub's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

#[path = "callbacks/receiver.rs"]
mod receiver;
mod redis;
mod support;
mod web;

mod browser;
mod callbacks;
mod callbacks_replay;
mod forwarded;
mod fuzz_publish;
mod fuzz_token;
mod interop;
mod key_rotation;
mod lean;
mod lean_hand_off;
mod lean_hub;
mod lifecycle;
mod log_tokens;
mod login_qr;
mod mercure_http;
mod mercure_query;
mod mercure_route;
mod mercure_service;
mod mercure_subscriptions;
mod push_js;
mod redis_callbacks;
mod redis_hubs;
mod redis_login;
mod resume_everywhere;
mod selectors_everywhere;
mod stomp;
mod stompjs;
mod topic_flood;
mod transports;
mod webpush;
mod webpush_browser;
mod webpush_replace;
mod websocket_h2;
