//! The dashboard in a real Chromium: the real binary over PostgreSQL and the TikTok sandbox,
//! every page checked for console errors, requests to other origins and axe-core's serious
//! and critical violations (see `support::browser`). The screenshots in docs/img/ are made
//! here (`UPDATE_SCREENSHOTS=1`).

use serde_json::json;
use tiktok_sandbox::{LatencyMs, SandboxConfig};

use crate::support::browser::{Browser, DESKTOP, PHONE};
use crate::support::*;

/// Stores the tests connect through the sandbox, with their groups.
const STORES: [(&str, &str, &str); 4] = [
    ("jkt_01", "Jakarta Pusat", "west"),
    ("bdg_02", "Bandung Dago", "west"),
    ("sby_03", "Surabaya Tunjungan", "east"),
    ("mdn_04", "Medan Kota", "east"),
];

/// The password of every person the tests add.
const PASSWORD: &str = "correct horse battery staple 9";

/// `YYYY-MM-DD` of `n` days before today (UTC, the hub's report time zone in these tests).
fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n)).to_string()
}

/// Adds a person with `tiktok-hub user add` (`groups`: their scope); their email.
fn person(hub: &Hub, email: &str, role: &str, groups: Option<&str>) -> String {
    let mut args = vec!["user", "add", email, "--role", role, "--password-stdin"];
    if let Some(g) = groups {
        args.extend(["--groups", g]);
    }
    let (ok, out, err) = cli(hub, &args, Some(PASSWORD));
    assert!(ok, "user add {email}: {out} {err}");
    email.to_owned()
}

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
    // One store at a time: a run of the 6 stores lasts a few of the page's 1 s polls.
    let one_at_a_time = [("SYNC_CONCURRENCY", "1"), ("VIDEO_SYNC_CONCURRENCY", "1"), ("SYNC_MAX_CONCURRENCY", "1")];
    let hub = Hub::start(sandbox(), &one_at_a_time).await;
    for (i, (code, name, group)) in STORES.iter().enumerate() {
        let store = json!({"store_code": code, "store_name": name, "pic_name": "Ana", "pic_contact": "ana@example.com", "store_group": group});
        let (status, body) = hub.post("/admin/stores", store).await;
        assert_eq!(status, 201, "{body}");
        let (status, page) = hub.connect(code, Some(i)).await;
        assert_eq!(status, 200, "{page}");
    }
    let palembang =
        json!({"store_code": "plg_05", "store_name": "Palembang", "pic_name": "Budi", "store_group": "west"});
    let (status, body) = hub.post("/admin/stores", palembang).await;
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
    let admin = person(&hub, "boss@example.com", "admin", None);
    let b = Browser::start(&hub.base).await;

    // Not signed in: every page leads to the sign-in page; a wrong password is refused.
    b.open("/dashboard/stores").await;
    assert!(b.path().await.starts_with("/dashboard/login?next="), "{}", b.path().await);
    b.axe().await;
    b.fill("#email", &admin).await;
    b.fill("#password", "not the password").await;
    b.click("button[type=submit]").await;
    assert!(b.text("[role=alert]").await.contains("Wrong email or password"));
    b.axe().await;
    b.screenshot("login-1280", DESKTOP).await;
    b.sign_in(&admin, PASSWORD).await;

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
    // The heaviest overview (a year of days in two charts) stays small for a first visit.
    let bytes = b.page_bytes().await;
    println!("dashboard: overview ?days=365 cold load {bytes} bytes");
    assert!(bytes <= 300 * 1024, "overview cold load {bytes} bytes");
    // A custom range: one point per day of it; a range the reports cannot draw says why.
    b.visit(&format!("/dashboard/?days=custom&from={}&to={}", days_ago(12), days_ago(3))).await;
    assert_eq!(b.count("#chart-followers .hits rect").await, 10, "10 days, both ends included");
    assert!(b.text("#growth-h").await.starts_with("Growth from "), "{}", b.text("#growth-h").await);
    b.visit(&format!("/dashboard/?days=custom&from={}&to={}", days_ago(3), days_ago(12))).await;
    assert!(b.text("form.range [role=alert]").await.contains("after its end"));
    b.visit("/dashboard/videos").await;
    assert!(b.count("tbody tr").await > 5, "top videos listed");
    // One group's videos.
    b.visit(&format!("/dashboard/videos?days=custom&from={}&to={}&group=east", days_ago(20), days_ago(0))).await;
    let east = b.text("main table").await;
    assert!(east.contains("sby_03") && !east.contains("jkt_01") && !east.contains("bdg_02"), "{east}");

    // Stores: search, sort, then create a store with the form (one error on the way).
    b.visit("/dashboard/stores?q=dago").await;
    assert_eq!(b.count("tbody tr").await, 1);
    b.visit("/dashboard/stores?sort=growth&dir=desc").await;
    assert_eq!(b.count("tbody tr").await, STORES.len() + 1);
    b.click("a[href='/dashboard/stores/new']").await;
    b.axe().await;
    b.screenshot("new-store-1280", DESKTOP).await;
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
    b.screenshot("connect-1280", DESKTOP).await;
    let (status, page) = hub.open_connect_link(&url, Some(5)).await;
    assert_eq!(status, 200, "{page}");
    b.visit("/dashboard/stores/mks_06").await;
    assert!(b.text("dl.facts").await.contains("Connected"), "the store page shows it connected");

    // Import stores from a CSV file: the dry run's preview first, then the import.
    let file = std::env::temp_dir().join(format!("stores-import-{}.csv", std::process::id()));
    std::fs::write(
        &file,
        "store_code,store_name,pic_name,store_group\nsmg_08,Semarang,Eka,east\nbdg_02,Bandung Dago Baru,Ana,west\n",
    )
    .unwrap();
    b.visit("/dashboard/stores").await;
    b.click("a[href='/dashboard/stores/import']").await;
    b.axe().await;
    b.client.find(fantoccini::Locator::Css("#file")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    b.client.find(fantoccini::Locator::Css("#on_conflict option[value=update]")).await.unwrap().click().await.unwrap();
    b.click("main form[method=post] button[type=submit]").await;
    let summary = b.text("#import-summary").await;
    assert!(summary.contains("1 to create, 1 to update") && summary.contains("0 with errors"), "{summary}");
    b.axe().await;
    b.screenshot("import-1280", DESKTOP).await;
    let (_, smg) = hub.get("/admin/stores/smg_08").await;
    assert_eq!(smg["error"]["code"], "STORE_NOT_FOUND", "a preview writes nothing: {smg}");
    b.click("main form[method=post] button[type=submit]").await;
    assert_eq!(b.path().await, "/dashboard/stores?imported=1&updated=1&skipped=0");
    assert!(b.text("main table").await.contains("smg_08"));
    std::fs::remove_file(&file).ok();

    // Sync now from the store page.
    b.visit("/dashboard/stores/mks_06").await;
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

    // People and keys: add a person (a weak password first), disable them; create a key,
    // use it, revoke it.
    b.visit("/dashboard/people").await;
    assert!(b.text("main table").await.contains("boss@example.com"));
    b.click("a[href='/dashboard/people/new']").await;
    b.axe().await;
    b.fill("#email", "east.lead@example.com").await;
    b.client.find(fantoccini::Locator::Css("#role option[value=operator]")).await.unwrap().click().await.unwrap();
    b.fill("#store_groups", "east").await;
    b.fill("#password", "short").await;
    b.click("main form[method=post] button[type=submit]").await;
    assert!(b.text("#password-error").await.contains("Password"), "{}", b.body().await);
    b.fill("#password", PASSWORD).await;
    b.click("main form[method=post] button[type=submit]").await;
    assert_eq!(b.path().await, "/dashboard/people?done=added");
    assert!(b.text("main table").await.contains("east.lead@example.com"));
    b.screenshot("people-1280", DESKTOP).await;
    b.click("button[aria-label='Disable east.lead@example.com']").await;
    assert_eq!(b.path().await, "/dashboard/people?done=disabled");
    assert_eq!(b.count("button[aria-label='Enable east.lead@example.com']").await, 1);
    b.click("a[href='/dashboard/people/keys/new']").await;
    b.axe().await;
    b.fill("#name", "BI export").await;
    b.fill("#expires_in_days", "30").await;
    b.click("main form[method=post] button[type=submit]").await;
    b.axe().await;
    let key = b.client.find(fantoccini::Locator::Css("#api-key")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(key.starts_with("tth_"), "{key}");
    let with_key = |key: String| {
        let http = hub.http.clone();
        let url = hub.url("/admin/stores");
        async move { http.get(url).header("X-API-KEY", key).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(with_key(key.clone()).await, 200, "the new key reads");
    b.visit("/dashboard/people").await;
    b.click("button[aria-label='Revoke BI export']").await;
    assert_eq!(b.path().await, "/dashboard/people?done=revoked");
    assert_eq!(with_key(key).await, 401, "a revoked key is refused");
    // The audit log shows what was done from the browser.
    b.visit("/dashboard/audit").await;
    let audit = b.body().await;
    assert!(
        audit.contains("store.create") && audit.contains("connect_link.create") && audit.contains("sync.run"),
        "{audit}"
    );

    // Sign out: the pages are closed again.
    b.click("form[action='/dashboard/logout'] button").await;
    assert_eq!(b.path().await, "/dashboard/login?out=1");
    b.open("/dashboard/").await;
    assert!(b.path().await.starts_with("/dashboard/login"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_is_offered_nothing_they_may_not_do() {
    let hub = hub_with_history().await;
    let viewer = person(&hub, "eve@example.com", "viewer", None);
    let b = Browser::start(&hub.base).await;
    b.sign_in(&viewer, PASSWORD).await;
    for page in ["/dashboard/", "/dashboard/stores", "/dashboard/stores/jkt_01", "/dashboard/sync", "/dashboard/videos"]
    {
        b.visit(page).await;
        assert_eq!(b.count("main form[method=post]").await, 0, "{page}: a viewer gets no form that changes anything");
        assert_eq!(b.count("a[href='/dashboard/stores/new'], a[href$='/edit']").await, 0, "{page}");
        assert_eq!(b.count("a[href='/dashboard/audit'], a[href='/dashboard/people']").await, 0, "{page}: admins only");
    }
    assert!(b.body().await.contains("Top videos"));
    // What is not offered is refused too (the page says so; the engine decided).
    assert!(b.refused("/dashboard/stores/new").await.contains("Not allowed"));
    assert!(b.refused("/dashboard/audit").await.contains("Not allowed"));
    assert!(b.refused("/dashboard/people").await.contains("Not allowed"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_scoped_manager_sees_only_their_stores() {
    let hub = hub_with_history().await;
    let manager = person(&hub, "west@example.com", "operator", Some("west"));
    let b = Browser::start(&hub.base).await;
    b.sign_in(&manager, PASSWORD).await;

    b.visit("/dashboard/stores").await;
    let listed = b.text("main table").await;
    for (code, _, group) in STORES {
        assert_eq!(listed.contains(code), group == "west", "{code} ({group}) in the west manager's list:\n{listed}");
    }
    assert!(listed.contains("plg_05"));
    // The overview adds up their stores only, and has no chain-wide run or sync page.
    b.visit("/dashboard/").await;
    let overview = b.body().await;
    assert!(overview.contains("3 stores, 2 connected"), "{overview}");
    assert!(!overview.contains("Surabaya") && !overview.contains("Medan"));
    assert_eq!(b.count("a[href='/dashboard/sync']").await, 0, "sync status spans every store");
    b.visit("/dashboard/videos").await;
    let videos = b.text("main").await;
    assert!(!videos.contains("sby_03") && !videos.contains("mdn_04"), "{videos}");
    // Another group's store is not there at all.
    assert!(b.refused("/dashboard/stores/sby_03").await.contains("Not found"));
    assert!(b.refused("/dashboard/sync").await.contains("Not allowed"));
    // Their own store: they may act on it; a new store goes into their group.
    b.visit("/dashboard/stores/jkt_01").await;
    assert_eq!(b.count("form[action$='/connect-link']").await, 1);
    b.visit("/dashboard/stores/new").await;
    b.fill("#store_code", "bgr_07").await;
    b.fill("#store_name", "Bogor").await;
    b.fill("#pic_name", "Dewi").await;
    b.fill("#store_group", "east").await;
    b.click("main form[method=post] button[type=submit]").await;
    assert!(b.text("#store_group-error").await.contains("not one of yours"));
    b.fill("#store_group", "west").await;
    b.click("main form[method=post] button[type=submit]").await;
    assert_eq!(b.path().await, "/dashboard/stores/bgr_07?created=1");
    b.close().await;
}
