//! MCP tool call latency on a running refinery (steady flow), over
//! loopback with rmcp's streamable HTTP client: a reading tool
//! (`connections`) and a modifying pair (`pause`, `resume` of the pipe into
//! the column), next to the same view read over the JSON API.
//!
//! `cargo bench -p refinery --bench mcp` prints p50, p99 and max of each;
//! `CALLS` sets the calls of each kind (default 1000).

#[path = "../src/servers/mod.rs"]
#[allow(dead_code)]
mod servers;

kernel::include_wiring!();

use std::time::{Duration, Instant};

use kernel::control::http::{ControlOptions, MCP_PATH, ServeControl as _};
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

const TOKEN: &str = "bench";

fn percentiles(name: &str, mut took: Vec<Duration>) {
    took.sort_unstable();
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "  {name:<34} {:>6} calls   p50 {:>7.0} µs   p99 {:>7.0} µs   max {:>7.0} µs",
        took.len(),
        us(at(0.5)),
        us(at(0.99)),
        us(at(1.0)),
    );
}

fn main() {
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000);
    servers::wells::run_steadily(Duration::from_millis(2));
    let kernel = wiring::kernel()
        .expect("refinery")
        .with_signal_handlers(false);
    let server = kernel
        .serve_control(ControlOptions::new().token(TOKEN))
        .expect("control surface");
    let addr = server.addr();
    let stop = kernel.stop_handle();
    let plant = std::thread::spawn(move || kernel.run());
    let feed = wiring::CONNECTOME
        .pipes
        .iter()
        .find(|p| p.to.server == "column")
        .expect("the pipe into the column")
        .id
        .to_string();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (read, modify) = runtime.block_on(async {
        let config =
            StreamableHttpClientTransportConfig::with_uri(format!("http://{addr}{MCP_PATH}"))
                .auth_header(TOKEN);
        let client =
            ().serve(StreamableHttpClientTransport::from_config(config))
                .await
                .expect("MCP initialize");
        let call = |tool: &'static str, args: Value| {
            let client = &client;
            async move {
                let started = Instant::now();
                let result = client
                    .call_tool(
                        CallToolRequestParams::new(tool)
                            .with_arguments(args.as_object().cloned().unwrap_or_default()),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{tool}: {e}"));
                assert_ne!(result.is_error, Some(true), "{tool}: {result:?}");
                started.elapsed()
            }
        };
        // Warm up the connection and the schemas.
        for _ in 0..50 {
            call("connections", json!({})).await;
        }
        let mut read = Vec::with_capacity(calls);
        for _ in 0..calls {
            read.push(call("connections", json!({})).await);
        }
        let mut modify = Vec::with_capacity(calls);
        for i in 0..calls {
            let tool = if i % 2 == 0 { "pause" } else { "resume" };
            modify.push(call(tool, json!({ "id": feed })).await);
        }
        if calls % 2 == 1 {
            call("resume", json!({ "id": feed })).await;
        }
        let _ = client.cancel().await;
        (read, modify)
    });

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let http: Vec<Duration> = (0..calls)
        .map(|_| {
            let started = Instant::now();
            agent
                .get(format!("http://{addr}/api/v1/connections"))
                .call()
                .and_then(|mut r| r.body_mut().read_to_vec())
                .expect("GET /api/v1/connections");
            started.elapsed()
        })
        .collect();

    stop.stop();
    let _ = plant.join();
    drop(server);
    println!("MCP tool calls on a running refinery, loopback, one client after the other:");
    percentiles("connections (read)", read);
    percentiles("pause / resume (modify)", modify);
    percentiles("GET /api/v1/connections (JSON API)", http);
}
