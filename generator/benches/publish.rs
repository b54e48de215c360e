//! Publish benchmark against moto_server: objects, bytes and time for a first
//! publish, a publish with no change, and one after 1% of the plans changed
//! their cost; then what `aws s3 sync` uploads for the same change.
//!
//! `cargo bench --workspace --bench publish`. By default the site is the
//! national sample, rendered from `BENCH_DATABASE_URL` (default
//! postgres://postgres@127.0.0.1:5432/whatever_bench, seeded by the build
//! bench), and the 1% change is a one-cent price change of every hundredth
//! active plan in that database (undone at the end). `BENCH_SITE=synthetic`
//! publishes a quicker synthetic site with the real layout instead:
//! BENCH_PLANS plans (default 2,000) offered in BENCH_ZIPS zip codes
//! (default 4,000), each in BENCH_ZIPS_PER_PLAN zips (default 40). Needs
//! moto_server and aws (awscli) on PATH.

#[path = "../tests/it/publish_support/distribution.rs"]
mod distribution;
#[path = "../tests/it/publish_support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use generator::publish::aws::{Endpoints, cloudfront_client, s3_client};
use generator::publish::cdn::CloudFront;
use generator::publish::stage::{Staged, stage_dir};
use generator::publish::store::S3Store;
use generator::publish::{Options, publish};
use generator::summary::Summary;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

/// plan index → monthly cost in cents.
type Costs = Vec<u32>;

struct Shape {
    plans: usize,
    zips: usize,
    zips_per_plan: usize,
}

impl Shape {
    fn zips_of(&self, plan: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.zips_per_plan).map(move |i| (plan * 7919 + i * 104_729) % self.zips)
    }

    /// Writes the whole site into a fresh `dir` (every file gets a new mtime,
    /// as after a real re-render).
    fn write(&self, costs: &Costs, dir: &Path) {
        let filler = "Coverage details, pharmacy network and formulary notes. ".repeat(40);
        let mut zips: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for plan in 0..self.plans {
            for zip in self.zips_of(plan) {
                zips.entry(zip).or_default().push(plan);
            }
        }
        let put = |key: &str, body: String| {
            let path = dir.join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        };
        put(
            "index.html",
            format!("<!doctype html><h1>Find a plan</h1>{filler}"),
        );
        put("404.html", "<!doctype html><h1>Not found</h1>".into());
        put("assets/site.9c1e2f.css", "body{margin:0}".repeat(2000));
        put("assets/site.4b7d0a.js", "function f(){}".repeat(2000));
        let row = |plan: usize| {
            format!(
                "{{\"plan_id\":\"S{:04}-{:03}-0\",\"avg_monthly_cost\":{}.{:02}}}",
                5000 + plan / 1000,
                plan % 1000,
                costs[plan] / 100,
                costs[plan] % 100
            )
        };
        for plan in 0..self.plans {
            let id = format!("S{:04}-{:03}-0", 5000 + plan / 1000, plan % 1000);
            put(
                &format!("plans/{id}/index.html"),
                format!("<!doctype html><h1>{id}</h1><p>{}</p>{filler}", row(plan)),
            );
            put(&format!("data/plans/{id}.json"), row(plan));
        }
        for (zip, plans) in zips {
            let rows: Vec<String> = plans.iter().map(|p| row(*p)).collect();
            put(
                &format!("zip/{zip:05}/index.html"),
                format!("<!doctype html><ul>{}</ul>", rows.join("</li><li>")),
            );
            put(
                &format!("data/zip/{zip:05}.json"),
                format!("{{\"zip\":\"{zip:05}\",\"plans\":[{}]}}", rows.join(",")),
            );
        }
    }
}

fn changed_objects(a: &Staged, b: &Staged) -> usize {
    b.objects
        .iter()
        .filter(|(k, o)| a.objects.get(*k).map(|x| &x.sha256) != Some(&o.sha256))
        .count()
        + a.objects
            .keys()
            .filter(|k| !b.objects.contains_key(*k))
            .count()
}

/// Runs `aws s3 sync DIR s3://BUCKET --delete`; returns objects uploaded and seconds.
fn aws_sync(url: &str, dir: &Path, bucket: &str) -> (usize, f64) {
    let started = Instant::now();
    let output = Command::new("aws")
        .args(["s3", "sync", "--delete", "--no-progress"])
        .arg(dir)
        .arg(format!("s3://{bucket}"))
        .args(["--endpoint-url", url])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("aws (awscli) on PATH");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "aws s3 sync: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let uploads = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with("upload:"))
        .count();
    (uploads, seconds)
}

fn line(label: &str, summary: &Summary, seconds: f64) {
    println!(
        "{label:<28} uploaded {:>7}  deleted {:>5}  unchanged {:>7}  invalidated {:>4} paths  {seconds:>8.2} s",
        summary.uploaded,
        summary.deleted,
        summary.unchanged,
        summary.invalidated_paths.len()
    );
}

/// Where the two builds come from.
enum Source {
    /// The national sample in Postgres, rendered by the real build.
    National(Box<whatever_database::DatabaseConfig>),
    /// A synthetic site of this shape, with its plans' costs.
    Synthetic(Shape, Costs),
}

/// Renders the database into `dir` with the real build.
async fn render_national(db: &whatever_database::DatabaseConfig, dir: &Path) {
    let options = generator::site::SiteOptions::from_env().expect("site options");
    let sink = generator::site::sink::DirSink::new(dir).expect("an output directory");
    generator::site::render_site(db, &options, &sink)
        .await
        .expect("the national site builds");
}

/// Moves one cent on every hundredth active plan (`sign` 1 or -1).
async fn nudge_one_percent(db: &whatever_database::DatabaseConfig, sign: i32) -> u64 {
    db.connect()
        .await
        .expect("the bench database")
        .execute(
            "UPDATE plan SET avg_monthly_cost = avg_monthly_cost + $1::int * 0.01
              WHERE status = 'active' AND abs(hashtext(plan_id)) % 100 = 0",
            &[&sign],
        )
        .await
        .expect("the price change")
}

impl Source {
    fn from_env() -> Self {
        if std::env::var("BENCH_SITE").as_deref() == Ok("synthetic") {
            let shape = Shape {
                plans: env_number("BENCH_PLANS", 2_000),
                zips: env_number("BENCH_ZIPS", 4_000),
                zips_per_plan: env_number("BENCH_ZIPS_PER_PLAN", 40),
            };
            let costs = (0..shape.plans)
                .map(|p| 1_000 + (p as u32 % 5_000))
                .collect();
            return Source::Synthetic(shape, costs);
        }
        let url = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/whatever_bench".into());
        Source::National(Box::new(
            whatever_database::DatabaseConfig::from_url(&url).expect("a database URL"),
        ))
    }

    /// Writes the current site into `dir`.
    async fn write(&self, dir: &Path) {
        match self {
            Source::National(db) => render_national(db, dir).await,
            Source::Synthetic(shape, costs) => shape.write(costs, dir),
        }
    }

    /// Changes the cost of 1% of the plans; returns how many.
    async fn change_one_percent(&mut self) -> u64 {
        match self {
            Source::National(db) => nudge_one_percent(db, 1).await,
            Source::Synthetic(shape, costs) => {
                let mut n = 0;
                for plan in (0..shape.plans).step_by(100) {
                    costs[plan] += 1;
                    n += 1;
                }
                n
            }
        }
    }

    /// Leaves the database as it was found.
    async fn undo(&self) {
        if let Source::National(db) = self {
            nudge_one_percent(db, -1).await;
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::National(db) => format!("national sample from {}", db.display_target()),
            Source::Synthetic(shape, _) => {
                format!("synthetic: {} plans, {} zips", shape.plans, shape.zips)
            }
        }
    }
}

fn main() {
    let mut source = Source::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let moto = moto::Moto::start();
    let url = moto.url.clone();
    runtime.block_on(async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
            .region(Region::new("us-east-1"))
            .load()
            .await;
        let endpoints = Endpoints {
            s3: Some(url.clone()),
            cloudfront: None,
        };
        let s3 = s3_client(&config, &endpoints);
        let cloudfront = cloudfront_client(&config, &endpoints);
        s3.create_bucket().bucket("bench").send().await.unwrap();
        s3.create_bucket()
            .bucket("bench-sync")
            .send()
            .await
            .unwrap();
        let distribution = distribution::create_distribution(&cloudfront, "bench").await;
        let store = S3Store::new(s3.clone(), "bench", "");
        let cdn = CloudFront::new(cloudfront.clone(), distribution);
        let options = Options::default();

        let v1 = tempfile::tempdir().unwrap();
        source.write(v1.path()).await;
        let t = Instant::now();
        let staged_v1 = stage_dir(v1.path()).unwrap();
        println!(
            "site: {}, {} objects, {:.1} MB, staged (read + hashed) in {:.2} s",
            source.describe(),
            staged_v1.objects.len(),
            staged_v1.bytes() as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );

        let t = Instant::now();
        let first = publish(&staged_v1, &store, Some(&cdn), &options)
            .await
            .unwrap();
        let first_seconds = t.elapsed().as_secs_f64();
        line("first publish", &first, first_seconds);

        let t = Instant::now();
        let again = publish(&staged_v1, &store, Some(&cdn), &options)
            .await
            .unwrap();
        let again_seconds = t.elapsed().as_secs_f64();
        line("no-change publish", &again, again_seconds);

        let nudged = source.change_one_percent().await;
        let v2 = tempfile::tempdir().unwrap();
        source.write(v2.path()).await;
        let staged_v2 = stage_dir(v2.path()).unwrap();
        let changed = changed_objects(&staged_v1, &staged_v2);
        let t = Instant::now();
        let delta = publish(&staged_v2, &store, Some(&cdn), &options)
            .await
            .unwrap();
        let delta_seconds = t.elapsed().as_secs_f64();
        line("1% of plans changed", &delta, delta_seconds);

        // The same two builds through `aws s3 sync`: v1, then v2 rendered
        // again afterwards, as the nightly job would (every file is new).
        let (sync_first_uploads, sync_first) = aws_sync(&url, v1.path(), "bench-sync");
        let v2_again = tempfile::tempdir().unwrap();
        source.write(v2_again.path()).await;
        source.undo().await;
        let (sync_uploads, sync_seconds) = aws_sync(&url, v2_again.path(), "bench-sync");
        println!("aws s3 sync, first upload: {sync_first_uploads} objects in {sync_first:.2} s");
        println!("aws s3 sync, 1% change:    {sync_uploads} objects in {sync_seconds:.2} s");
        println!();
        println!("objects whose bytes changed ({nudged} plans repriced): {changed}");
        println!(
            "publish uploaded {} ({:.2}x the changed objects; target <= 1.1x)",
            delta.uploaded,
            delta.uploaded as f64 / changed.max(1) as f64
        );
        println!(
            "aws s3 sync uploaded {sync_uploads} ({:.2}x the changed objects)",
            sync_uploads as f64 / changed.max(1) as f64
        );
        println!(
            "no-change publish took {:.1}% of the first publish (target <= 10%)",
            100.0 * again_seconds / first_seconds
        );
    });
    drop(moto);
}
