//! The dashboard in a real Chromium: the real binary over PostgreSQL and the TikTok sandbox,
//! every page checked for console errors, requests to other origins and axe-core's serious
//! and critical violations (see `support::browser`). The screenshots in docs/img/ are made
//! here.

use serde_json::json;
use tiktok_sandbox::{LatencyMs, SandboxConfig};

use crate::support::browser::{Browser, DESKTOP, PHONE};
use crate::support::*;

/// Stores the tests connect through the sandbox.
const STORES: [(&str, &str); 4] = [
    ("jkt_01", "Jakarta Pusat"),
    ("bdg_02", "Bandung Dago"),
    ("sby_03", "Surabaya Tunjungan"),
    ("mdn_04", "Medan Kota"),
];

fn sandbox() -> SandboxConfig {
    // Each TikTok call takes a little while, so a sync of the stores is long enough to be
    // seen running.
    SandboxConfig {
        accounts: 6,
        videos_per_account: 14,
        rate_limit_per_min: 0,
        latency_ms: Some(LatencyMs { min: 250, max: 400 }),
        ..SandboxConfig::default()
    }
}

/// A hub with [`STORES`] connected, synced once, and 45 days of history before today made
/// from today's snapshots (steady growth, a little different per store), plus one store that
/// was never connected.
pub async fn hub_with_history() -> Hub {
    let hub = Hub::start(sandbox(), &[]).await;
    for (i, (code, name)) in STORES.iter().enumerate() {
        let (status, body) = hub
            .post(
                "/admin/stores",
                json!({"store_code": code, "store_name": name, "pic_name": "Ana", "pic_contact": "ana@example.com"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, page) = hub.connect(code, Some(i)).await;
        assert_eq!(status, 200, "{page}");
    }
    let (status, body) =
        hub.post("/admin/stores", json!({"store_code": "plg_05", "store_name": "Palembang", "pic_name": "Budi"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "all"})).await;
    assert_eq!(status, 200, "{run}");
    hub_postgres::execute_batch(
        hub.db.url(),
        "INSERT INTO tiktok_user_daily (store_code, snapshot_date, follower_count, following_count, likes_count, video_count)
         SELECT store_code, snapshot_date - g,
                GREATEST(follower_count - g * (40 + 9 * length(store_code) + (g % 5) * 3), 0),
                following_count, GREATEST(likes_count - g * 310, 0), video_count
         FROM tiktok_user_daily, generate_series(1, 45) AS g
         ON CONFLICT DO NOTHING;
         INSERT INTO tiktok_video_daily (store_code, snapshot_date, video_id, view_count, like_count, comment_count,
                                         share_count, title, description, share_url, create_time)
         SELECT store_code, snapshot_date - g, video_id, GREATEST(view_count - g * (900 + (g % 7) * 120), 0),
                GREATEST(like_count - g * 40, 0), comment_count, share_count, title, description, share_url, create_time
         FROM tiktok_video_daily, generate_series(1, 45) AS g
         ON CONFLICT DO NOTHING;",
    )
    .await
    .expect("history");
    hub
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_runs_the_chain_from_the_browser() {
    let hub = hub_with_history().await;
    let (email, password) = admin_person(&hub).await;
    let b = Browser::start(&hub.base).await;

    // Not signed in: every page leads to the sign-in page.
    b.open("/dashboard/stores").await;
    assert!(b.path().await.starts_with("/dashboard/login"), "{}", b.path().await);
    b.sign_in(&email, &password).await;

    // Overview: key figures, two charts drawn from the stored days, the breakdowns.
    b.visit("/dashboard/?days=30").await;
    assert_eq!(b.count("figure.chart svg.line-chart").await, 2, "followers and views charts");
    let summary = b.text("#chart-followers-desc").await;
    assert!(summary.starts_with("Followers:") && !summary.contains("no data"), "{summary}");
    // 30 days of data: one tooltip per day.
    assert_eq!(b.count("#chart-followers .hits rect").await, 30);
    assert_eq!(b.count("#top-stores-h + ol li").await, STORES.len());
    assert!(b.body().await.contains("Palembang"), "the never-connected store needs attention");
    for size in [DESKTOP, PHONE] {
        b.screenshot(&format!("overview-{}", size.0), size).await;
    }
    b.visit("/dashboard/?days=365").await;
    b.visit("/dashboard/videos").await;
    assert!(b.count("tbody tr").await > 5, "top videos listed");

    // Stores: search, sort, then create a store with the form (one error on the way).
    b.visit("/dashboard/stores?q=dago").await;
    assert_eq!(b.count("tbody tr").await, 1);
    b.visit("/dashboard/stores?sort=growth&dir=desc").await;
    assert_eq!(b.count("tbody tr").await, STORES.len() + 1);
    b.click("a[href='/dashboard/stores/new']").await;
    b.axe().await;
    b.fill("#store_code", "bad code").await;
    b.fill("#store_name", "Makassar").await;
    b.fill("#pic_name", "Citra").await;
    b.click("main form[method=post] button[type=submit]").await;
    assert!(b.text("#store_code-error").await.contains("Store code"), "the error sits next to its field");
    b.axe().await;
    b.fill("#store_code", "mks_06").await;
    b.click("main form[method=post] button[type=submit]").await;
    assert_eq!(b.path().await, "/dashboard/stores/mks_06?created=1");
    b.axe().await;
    b.click("a[href='/dashboard/stores/mks_06/edit']").await;
    b.axe().await;
    b.fill("#store_name", "Makassar Panakkukang").await;
    b.click("main form[method=post] button[type=submit]").await;
    assert_eq!(b.path().await, "/dashboard/stores/mks_06?saved=1");
    assert_eq!(b.text("h1").await, "Makassar Panakkukang");

    // Its connect link: shown once, with a copy button and a QR code; staff open it and the
    // store connects.
    b.click("form[action$='/connect-link'] button").await;
    b.axe().await;
    let url =
        b.client.find(fantoccini::Locator::Css("#connect-url")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(url.contains("/connect/tiktok?store_code=mks_06&invite="), "{url}");
    assert_eq!(b.count(".qr svg path").await.max(b.count(".qr svg rect").await).min(1), 1, "a QR code");
    assert!(b.client.find(fantoccini::Locator::Css("button[data-copy]")).await.unwrap().is_displayed().await.unwrap());
    let (status, page) = hub.open_connect_link(&url, Some(5)).await;
    assert_eq!(status, 200, "{page}");
    b.visit("/dashboard/stores/mks_06").await;
    assert!(b.text("dl.facts").await.contains("Connected"), "the store page shows it connected");

    // Sync now from the store page.
    b.click("form[action$='/sync'] button").await;
    assert_eq!(b.path().await, "/dashboard/stores/mks_06?synced=ok");
    b.axe().await;

    // A store page with history, at both widths.
    b.visit("/dashboard/stores/jkt_01").await;
    assert_eq!(b.count("figure.chart svg.line-chart").await, 2, "followers and likes charts");
    assert!(b.count("#videos-h ~ div tbody tr").await > 0, "the store's videos");
    for size in [DESKTOP, PHONE] {
        b.screenshot(&format!("store-{}", size.0), size).await;
    }

    // Sync: run every job and watch it progress to done.
    b.visit("/dashboard/sync").await;
    b.client.find(fantoccini::Locator::Css("#job option[value=user]")).await.unwrap().click().await.unwrap();
    b.click("form[action='/dashboard/sync/run'] button").await;
    assert_eq!(b.path().await, "/dashboard/sync?started=1");
    b.wait_for("#live progress").await;
    b.screenshot("sync-1280", DESKTOP).await;
    // Read the bar as the page updates itself, until the fragment says it is done.
    let mut seen = Vec::new();
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(std::time::Instant::now() < give_up, "the run never ended: {seen:?}");
        let state = b
            .client
            .execute(
                "var p = document.querySelector('#live progress'); \
                 return [document.querySelector('#live [data-done]') !== null, p ? p.value : null, p ? p.max : null];",
                vec![],
            )
            .await
            .unwrap();
        if state[0] == true {
            break;
        }
        if let (Some(v), Some(max)) = (state[1].as_f64(), state[2].as_f64()) {
            seen.push((v, max));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.check().await;
    assert!(seen.iter().any(|(v, max)| *v > 0.0 && v < max), "the bar moved while the run went on: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows: {seen:?}");
    b.visit("/dashboard/sync").await;
    assert!(b.text("#last-h + div").await.contains("succeeded"), "{}", b.text("#last-h + div").await);
    b.screenshot("sync-390", PHONE).await;

    // The audit log shows what was done from the browser.
    b.visit("/dashboard/audit").await;
    let audit = b.body().await;
    assert!(
        audit.contains("store.create") && audit.contains("connect_link.create") && audit.contains("sync.run"),
        "{audit}"
    );

    // Sign out: the pages are closed again.
    b.click("form[action='/dashboard/logout'] button").await;
    b.open("/dashboard/").await;
    assert!(b.path().await.starts_with("/dashboard/login"));
    b.close().await;
}
