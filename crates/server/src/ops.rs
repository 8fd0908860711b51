//! Operations: Prometheus metrics (`GET /metrics`) and rate limiting per client.
//!
//! Metrics live in a registry per application (no process-wide state), so several servers in one
//! process (the tests) count apart. A client is its bearer token when it sends one, else its IP
//! address; each gets a token bucket (`rate` per second, bursts of `burst`), and a request over it is
//! answered 429 with `Retry-After`.

use crate::ApiError;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    limited: IntCounterVec,
    in_flight: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with the HTTP metrics.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("wangge".into()), None).unwrap_or_default();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route and status"),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|e| unreachable!("metric options are constant: {e}"));
        let duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer, by method and route")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["method", "route"],
        )
        .unwrap_or_else(|e| unreachable!("metric options are constant: {e}"));
        let limited = IntCounterVec::new(
            Opts::new("http_rate_limited_total", "Requests refused by the per-client rate limit"),
            &["client_kind"],
        )
        .unwrap_or_else(|e| unreachable!("metric options are constant: {e}"));
        let in_flight = IntGauge::new("http_requests_in_flight", "Requests being answered")
            .unwrap_or_else(|e| unreachable!("metric options are constant: {e}"));
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(limited.clone()),
            Box::new(in_flight.clone()),
        ] {
            if let Err(e) = registry.register(m) {
                tracing::error!("registering a metric: {e}");
            }
        }
        Self { registry, requests, duration, limited, in_flight }
    }

    /// Registers another collector (e.g. the tile cache's gauges).
    pub fn register(&self, c: Box<dyn prometheus::core::Collector>) {
        if let Err(e) = self.registry.register(c) {
            tracing::error!("registering a metric: {e}");
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!("encoding metrics: {e}");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Counts and times every routed request (route label = the route's template, not the raw path,
/// so ids do not explode the label set).
pub async fn track(State(m): State<Metrics>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    m.in_flight.inc();
    let started = Instant::now();
    let res = next.run(req).await;
    m.in_flight.dec();
    m.duration.with_label_values(&[&method, &route]).observe(started.elapsed().as_secs_f64());
    m.requests.with_label_values(&[&method, &route, res.status().as_str()]).inc();
    res
}

/// `GET /metrics`.
pub async fn metrics(State(m): State<Metrics>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], m.render())
        .into_response()
}

/// Per-client token buckets.
#[derive(Clone)]
pub struct Limiter {
    buckets: Arc<DefaultKeyedRateLimiter<String>>,
    metrics: Metrics,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

impl Limiter {
    /// `rate` requests per second per client with bursts of `burst` (at least `rate`); `None` when
    /// `rate` is 0 (no limit).
    pub fn new(rate: u32, burst: u32, metrics: Metrics) -> Option<Self> {
        let rate = NonZeroU32::new(rate)?;
        let burst = NonZeroU32::new(burst.max(rate.get())).unwrap_or(rate);
        let buckets = Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)));
        Some(Self { buckets, metrics })
    }
}

/// The client a request counts against: its bearer token (hashed into the key: never logged), else
/// its peer address.
fn client_key(req: &Request) -> (String, &'static str) {
    if let Some(auth) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        auth.hash(&mut h);
        return (format!("t:{:016x}", h.finish()), "token");
    }
    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => (format!("ip:{}", addr.ip()), "address"),
        None => ("local".into(), "address"),
    }
}

/// Refuses a request over its client's budget with 429 and `Retry-After` (seconds).
pub async fn limit(State(l): State<Limiter>, req: Request, next: Next) -> Response {
    let (key, kind) = client_key(&req);
    match l.buckets.check_key(&key) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            l.metrics.limited.with_label_values(&[kind]).inc();
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut res = ApiError::TooManyRequests(format!(
                "too many requests from this client; try again in {} s",
                secs.max(1)
            ))
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            debug_assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            res
        }
    }
}
