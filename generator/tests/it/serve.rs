//! `generator serve` over real HTTP: static objects, CDN routing rules, and
//! `/api/*` forwarded to a stand-in API server.

use std::net::SocketAddr;
use std::path::Path;

use crate::support;
use bytes::Bytes;
use generator::serve::{ServeArgs, serve};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

fn write(dir: &Path, key: &str, body: &str) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// An API stand-in that echoes what it received.
async fn echo_api() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                let forwarded = req
                    .headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let body = serde_json::json!({
                    "method": req.method().as_str(),
                    "path": req.uri().path(),
                    "query": req.uri().query(),
                    "forwarded_for": forwarded,
                });
                let mut resp = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
                resp.headers_mut()
                    .insert("set-cookie", "s=1; Path=/api".parse().unwrap());
                Ok::<_, std::convert::Infallible>(resp)
            });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn start(dir: &Path, api: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let args = ServeArgs {
        dir: dir.to_path_buf(),
        listen: addr,
        api: api.to_string(),
    };
    tokio::spawn(async move { serve(listener, args, std::future::pending()).await });
    format!("http://{addr}")
}

/// What a test request got back.
struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// One request with a fresh connection; redirects are not followed.
async fn send(method: &str, url: &str, body: &str) -> Answer {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(url: &str) -> Answer {
    send("GET", url, "").await
}

#[tokio::test]
async fn serves_the_site_as_the_cdn_routes_it() {
    let site = tempfile::tempdir().unwrap();
    write(site.path(), "index.html", "home");
    write(site.path(), "404.html", "not here");
    write(site.path(), "zip/00501/index.html", "zip 00501");
    write(
        site.path(),
        "data/zip/00501.json",
        r#"{"zip":"00501","plans":[]}"#,
    );
    write(site.path(), "_publish/manifest.json", "{}");
    let api = echo_api().await;
    let base = start(site.path(), &format!("http://{api}")).await;

    let home = get(&format!("{base}/")).await;
    assert_eq!(home.status, 200);
    assert_eq!(home.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(home.body, "home");

    assert_eq!(get(&format!("{base}/zip/00501/")).await.body, "zip 00501");
    let json = get(&format!("{base}/data/zip/00501.json")).await;
    assert_eq!(
        json.header("content-type"),
        "application/json; charset=utf-8"
    );

    let bare = get(&format!("{base}/zip/00501")).await;
    assert_eq!(bare.status, 301);
    assert_eq!(bare.header("location"), "/zip/00501/");

    let search = get(&format!("{base}/search?zip=00501")).await;
    assert_eq!(search.status, 302);
    assert_eq!(search.header("location"), "/zip/00501/");

    for missing in [
        "/search?zip=abc",
        "/zip/99999/",
        "/_publish/manifest.json",
        "/a/%2e%2e/x.txt",
    ] {
        let resp = get(&format!("{base}{missing}")).await;
        assert_eq!(resp.status, 404, "{missing}");
        assert_eq!(resp.body, "not here", "{missing}");
    }

    assert_eq!(send("POST", &format!("{base}/"), "").await.status, 405);
}

#[tokio::test]
async fn api_requests_are_forwarded_with_method_query_and_cookies() {
    let site = tempfile::tempdir().unwrap();
    write(site.path(), "index.html", "home");
    let api = echo_api().await;
    let base = start(site.path(), &format!("http://{api}")).await;

    let resp = send("POST", &format!("{base}/api/login?next=1"), "{}").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("set-cookie"), "s=1; Path=/api");
    let echoed = resp.json();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/api/login");
    assert_eq!(echoed["query"], "next=1");
    assert_eq!(echoed["forwarded_for"], "127.0.0.1");
}

#[tokio::test]
async fn an_absent_api_is_a_clear_502() {
    let site = tempfile::tempdir().unwrap();
    write(site.path(), "index.html", "home");
    // Bind then drop: a port with nobody listening.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let base = start(site.path(), &format!("http://{dead}")).await;
    let resp = get(&format!("{base}/api/me/enrollment")).await;
    assert_eq!(resp.status, 502);
    assert_eq!(resp.json()["error"]["code"], "api_unreachable");
}

#[tokio::test]
async fn a_directory_without_a_build_is_refused_with_advice() {
    let empty = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let args = ServeArgs {
        dir: empty.path().to_path_buf(),
        listen: addr,
        api: "http://127.0.0.1:1".into(),
    };
    let err = serve(listener, args, std::future::pending())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("generator build"), "{err}");
}

#[tokio::test]
async fn every_object_of_a_build_is_served_with_the_type_publish_stores() {
    let db = whatever_test_db::TestDatabase::new().await.unwrap();
    support::insert(&db, &support::standard_plans()).await;
    let site = tempfile::tempdir().unwrap();
    let sink = generator::site::sink::DirSink::new(site.path()).unwrap();
    generator::site::render_site(db.config(), &support::options(), &sink)
        .await
        .unwrap();
    // What publish would upload, with the headers it would store.
    let staged = generator::publish::stage::stage_dir(site.path()).unwrap();
    let extensions: std::collections::BTreeSet<_> = staged
        .objects
        .keys()
        .filter_map(|k| k.rsplit_once('.').map(|(_, ext)| ext.to_string()))
        .collect();
    for ext in ["html", "json", "css", "js", "svg", "png", "woff2"] {
        assert!(
            extensions.contains(ext),
            "the build has a .{ext}: {extensions:?}"
        );
    }
    let api = echo_api().await;
    let base = start(site.path(), &format!("http://{api}")).await;
    for (key, object) in &staged.objects {
        let answer = get(&format!("{base}/{key}")).await;
        assert_eq!(answer.status, 200, "{key}");
        assert_eq!(answer.header("content-type"), object.content_type, "{key}");
        assert_eq!(answer.header("x-content-type-options"), "nosniff", "{key}");
    }
}

#[tokio::test]
async fn open_redirects_are_refused_over_http() {
    let site = tempfile::tempdir().unwrap();
    write(site.path(), "index.html", "home");
    write(site.path(), "404.html", "not here");
    let base = start(site.path(), "http://127.0.0.1:9").await;
    for path in [
        "//evil.example/x",
        "/%2F%2Fevil",
        "/%5Cevil",
        "/%5C%5Cevil.example/x",
    ] {
        let answer = get(&format!("{base}{path}")).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.header("location"), "", "{path}");
    }
}

#[tokio::test]
async fn text_is_sent_gzipped_to_a_browser_that_accepts_it_as_the_cdn_does() {
    use http_body_util::BodyExt;
    use std::io::Read as _;
    let site = tempfile::tempdir().unwrap();
    let page = format!("<!doctype html><p>{}</p>", "plans and prices ".repeat(200));
    write(site.path(), "index.html", &page);
    write(site.path(), "404.html", "not here");
    write(site.path(), "assets/site-1.css", &"p{margin:0}".repeat(200));
    write(site.path(), "assets/small.js", "export{}");
    write(site.path(), "assets/f.woff2", &"w".repeat(5000));
    let base = start(site.path(), "http://127.0.0.1:9").await;

    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let fetch = |path: &str, accept: Option<&str>| {
        let mut req = hyper::Request::get(format!("{base}{path}"));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        client.request(req.body(Full::new(Bytes::new())).unwrap())
    };
    let gunzip = |bytes: &[u8]| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .unwrap();
        text
    };

    for (path, body) in [
        ("/", page.clone()),
        ("/assets/site-1.css", "p{margin:0}".repeat(200)),
    ] {
        let resp = fetch(path, Some("gzip, deflate, br")).await.unwrap();
        let headers = resp.headers().clone();
        assert_eq!(headers["content-encoding"], "gzip", "{path}");
        assert_eq!(headers["vary"], "Accept-Encoding", "{path}");
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
        assert!(
            bytes.len() < body.len() / 4,
            "{path}: {} bytes",
            bytes.len()
        );
        assert_eq!(gunzip(&bytes), body, "{path}");

        // No gzip asked for, or refused: the bytes as they are.
        for accept in [None, Some("gzip;q=0, br")] {
            let resp = fetch(path, accept).await.unwrap();
            assert!(
                resp.headers().get("content-encoding").is_none(),
                "{path} {accept:?}"
            );
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(bytes, body.as_bytes(), "{path} {accept:?}");
        }
    }
    // Too small to gain, or already compressed (fonts, images): as they are.
    for path in ["/assets/small.js", "/assets/f.woff2"] {
        let resp = fetch(path, Some("gzip")).await.unwrap();
        assert!(resp.headers().get("content-encoding").is_none(), "{path}");
    }
    // The 404 page is a page like the others.
    let resp = fetch("/nowhere/", Some("gzip")).await.unwrap();
    assert_eq!(resp.status(), 404);
}
