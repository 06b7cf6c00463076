//! The sender against real sockets: the SSRF table (refused without a connection), and a
//! local receiver when private targets are allowed (headers, no redirects, bounded answers).

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hub_ports::{OutgoingWebhook, SendError, WebhookSender};
use hub_webhooks::{HttpSender, MAX_ANSWER_BYTES, SenderConfig};

/// reqwest is built with `rustls-no-provider`: the binary installs ring's provider at start.
fn sender(allow_private: bool) -> HttpSender {
    let _ = rustls::crypto::ring::default_provider().install_default();
    HttpSender::new(SenderConfig { allow_private, ..SenderConfig::default() })
}

fn hook(url: &str) -> OutgoingWebhook {
    OutgoingWebhook { url: url.into(), headers: vec![("webhook-id".into(), "msg_1".into())], body: b"{}".to_vec() }
}

#[tokio::test]
async fn internal_targets_and_other_schemes_are_refused_without_private() {
    let sender = sender(false);
    let cases = [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "http://0.0.0.0:80/",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http://user:pass@example.com/",
        "not a url",
    ];
    for url in cases {
        match sender.send(&hook(url)).await {
            Err(SendError::Refused(why)) => assert!(!why.is_empty(), "{url}"),
            other => panic!("{url}: {other:?}"),
        }
        assert!(matches!(sender.check_url(url).await, Err(SendError::Refused(_))), "{url}");
    }
}

/// What the receiver got: the `webhook-id` header and the body of each POST.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A receiver on 127.0.0.1: `/ok` records and answers a large body, `/redirect` answers 302
/// to `/ok`.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let seen = got.clone();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new()
            .route(
                "/ok",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let seen = seen.clone();
                    async move {
                        let id = req.headers().get("webhook-id").map(|v| v.to_str().unwrap().to_owned());
                        seen.lock().unwrap().push((id.unwrap_or_default(), body.to_vec()));
                        HttpResponse::Ok().body("x".repeat(100_000))
                    }
                }),
            )
            .route(
                "/redirect",
                web::post().to(|| async { HttpResponse::Found().insert_header(("Location", "/ok")).finish() }),
            )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (format!("http://{addr}"), got)
}

#[actix_web::test]
async fn with_private_allowed_it_posts_reads_a_bounded_answer_and_follows_no_redirect() {
    let (base, got) = receiver().await;
    let sender = sender(true);
    let answer = sender.send(&hook(&format!("{base}/ok"))).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.excerpt.len(), MAX_ANSWER_BYTES);
    assert_eq!(*got.lock().unwrap(), [("msg_1".to_owned(), b"{}".to_vec())]);

    let redirected = sender.send(&hook(&format!("{base}/redirect"))).await.unwrap();
    assert_eq!(redirected.status, 302, "the redirect is the answer");
    assert_eq!(got.lock().unwrap().len(), 1, "and it was not followed");

    // A name resolving to 127.0.0.1 is reached at the address checked.
    let port = base.rsplit(':').next().unwrap();
    let by_name = sender.send(&hook(&format!("http://localhost:{port}/ok"))).await.unwrap();
    assert_eq!(by_name.status, 200);

    // Without the allowance the same receiver is never contacted.
    let strict = self::sender(false);
    assert!(matches!(strict.send(&hook(&format!("{base}/ok"))).await, Err(SendError::Refused(_))));
    assert_eq!(got.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_receiver_is_a_network_error_worth_retrying() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sender = sender(true);
    assert!(matches!(sender.send(&hook(&format!("http://127.0.0.1:{port}/"))).await, Err(SendError::Network(_))));
}
